// lowprec: the command-line face of the library.
//   lowprec show VALUES...            every format's stored value, bits and error
//   lowprec memory --params 7e9 ...   training memory per component and device
//   lowprec quantize FILE --scheme S  quantize .npy / .safetensors tensors, report error
//   lowprec dequantize FILE.lpq       read the quantized container back
// Errors print one line, "lowprec: <what is wrong>", and exit with status 1 (2 for a
// command line CLI11 cannot parse); no command leaves a partial output file.
#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "common.hpp"
#include "lowprec/version.hpp"

int main(int argc, char** argv) {
  CLI::App app{std::string("lowprec ") + lowprec::version_string +
                   ": low-precision number formats for machine learning",
               "lowprec"};
  app.require_subcommand(1);
  app.set_version_flag("--version", lowprec::version_string);
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("lowprec: ") + e.what() + " (see --help)\n";
  });
  lowprec_cli::add_show_command(app);
  lowprec_cli::add_memory_command(app);
  lowprec_cli::add_quantize_commands(app);
  // CLI11 would only say "a subcommand is required"; name the word that is not one.
  bool known = argc < 2 || argv[1][0] == '-';
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    known = known || sub->check_name(argv[1]);
  }
  if (!known) {
    std::fprintf(stderr, "lowprec: unknown command '%s' (expected show, memory, quantize or "
                 "dequantize; see --help)\n", argv[1]);
    return 2;
  }
  try {
    app.parse(argc, argv);  // runs the chosen command's callback
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  } catch (const lowprec_cli::tool_error& e) {
    std::fprintf(stderr, "lowprec: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "lowprec: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lowprec: %s\n", e.what());
    return 1;
  }
  return 0;
}
