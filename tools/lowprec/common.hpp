// Shared pieces of the `lowprec` command-line tool: the error every command reports as
// one line, strict number parsing, output files that appear whole or not at all, and
// progress on stderr. Nothing here includes a lowprec SIMD header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace lowprec_cli {

// What every command throws for bad input; main() prints "lowprec: <what>" and exits 1.
// Messages are one line and name the file, option or value at fault.
class tool_error : public std::runtime_error {
 public:
  explicit tool_error(const std::string& what) : std::runtime_error(what) {}
};

// A whole string as a double (strtod syntax: 3.14, -1e-8, 0x1p-3, inf, nan), or a
// tool_error naming `what` and the text. No leading or trailing characters.
double parse_double(const std::string& text, const std::string& what);

// A count with an optional suffix K, M, B (or G), T: "7e9", "7B", "1.5T", "350M".
// Finite and >= 0.
double parse_count(const std::string& text, const std::string& what);

// An integer in [lo, hi].
long long parse_integer(const std::string& text, const std::string& what, long long lo,
                        long long hi);

// "7.00 GB" style: bytes in SI units (10^3 steps, as the memory arithmetic uses).
std::string human_bytes(double bytes);

// Writes a file atomically: bytes go to a temporary file in the same directory, which is
// renamed over `path` by commit(). If commit() is never reached (an error, an exception)
// the destructor deletes the temporary file, so `path` is either the complete new file or
// untouched -- never a partial output.
class atomic_output {
 public:
  explicit atomic_output(std::string path);
  ~atomic_output();
  atomic_output(const atomic_output&) = delete;
  atomic_output& operator=(const atomic_output&) = delete;

  void write(const void* data, std::size_t n);
  void write(const std::vector<std::uint8_t>& bytes) { write(bytes.data(), bytes.size()); }
  std::uint64_t written() const noexcept { return written_; }
  void commit();

 private:
  std::string path_, temp_;
  std::FILE* file_ = nullptr;
  std::uint64_t written_ = 0;
  bool committed_ = false;
};

// Progress of long work on stderr: "[3/12] name" lines. Silent when `enabled` is false;
// on a terminal each update overwrites the previous line.
class progress {
 public:
  progress(std::size_t total, bool enabled);
  ~progress();
  void step(const std::string& label);
  void done();

 private:
  std::size_t total_, current_ = 0;
  bool enabled_, tty_, open_line_ = false;
};

// True when stderr is a terminal (progress defaults to on there).
bool stderr_is_terminal();

}  // namespace lowprec_cli
