// The subcommands of the `lowprec` tool; each registers its options and a callback that
// throws tool_error (or std::exception) on bad input.
#pragma once

namespace CLI {
class App;
}  // namespace CLI

namespace lowprec_cli {

void add_show_command(CLI::App& app);      // show.cpp
void add_memory_command(CLI::App& app);    // memory.cpp
void add_quantize_commands(CLI::App& app);  // quantize.cpp: quantize and dequantize

}  // namespace lowprec_cli
