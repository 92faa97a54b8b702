#include "common.hpp"

#include <unistd.h>  // mkstemp, fsync, isatty, fileno

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace lowprec_cli {

double parse_double(const std::string& text, const std::string& what) {
  const auto bad = [&]() {
    return tool_error(what + ": '" + text + "' is not a number");
  };
  if (text.empty() || std::isspace(static_cast<unsigned char>(text.front())) != 0 ||
      text.find('\0') != std::string::npos) {
    throw bad();
  }
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0') throw bad();
  // ERANGE on underflow is fine (the value is the correctly rounded tiny/zero result);
  // on overflow strtod returns +-HUGE_VAL, i.e. infinity, which is what the text means.
  return v;
}

double parse_count(const std::string& text, const std::string& what) {
  std::string digits = text;
  double unit = 1.0;
  if (!digits.empty()) {
    switch (digits.back()) {
      case 'K': case 'k': unit = 1e3; break;
      case 'M': case 'm': unit = 1e6; break;
      case 'B': case 'b': case 'G': case 'g': unit = 1e9; break;
      case 'T': case 't': unit = 1e12; break;
      default: break;
    }
    if (unit != 1.0) digits.pop_back();
  }
  double v = 0.0;
  try {
    v = parse_double(digits, what);
  } catch (const tool_error&) {
    throw tool_error(what + ": '" + text + "' is not a count (examples: 7e9, 7B, 350M)");
  }
  v *= unit;
  if (!std::isfinite(v) || v < 0.0) {
    throw tool_error(what + ": '" + text + "' must be finite and >= 0");
  }
  return v;
}

long long parse_integer(const std::string& text, const std::string& what, long long lo,
                        long long hi) {
  const auto bad = [&]() {
    return tool_error(what + ": '" + text + "' is not an integer in " + std::to_string(lo) +
                      ".." + std::to_string(hi));
  };
  if (text.empty() || std::isspace(static_cast<unsigned char>(text.front())) != 0) throw bad();
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '\0' || errno == ERANGE || v < lo || v > hi) throw bad();
  return v;
}

std::string human_bytes(double bytes) {
  static const char* const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  std::size_t u = 0;
  double v = bytes;
  while (std::fabs(v) >= 1000.0 && u + 1 < sizeof units / sizeof units[0]) {
    v /= 1000.0;
    ++u;
  }
  char buf[64];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%.0f B", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f %s", v, units[u]);
  }
  return buf;
}

// ---- atomic_output ------------------------------------------------------------------------

atomic_output::atomic_output(std::string path) : path_(std::move(path)) {
  if (path_.empty()) throw tool_error("--out: the output path is empty");
  temp_ = path_ + ".tmp.XXXXXX";
  std::vector<char> name(temp_.begin(), temp_.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) {
    throw tool_error(path_ + ": cannot create a temporary file beside it (" +
                     std::strerror(errno) + ")");
  }
  temp_.assign(name.data());
  file_ = ::fdopen(fd, "wb");
  if (file_ == nullptr) {
    const int err = errno;
    ::close(fd);
    std::remove(temp_.c_str());
    throw tool_error(path_ + ": cannot open a temporary file (" + std::strerror(err) + ")");
  }
}

atomic_output::~atomic_output() {
  if (file_ != nullptr) std::fclose(file_);
  if (!committed_) std::remove(temp_.c_str());
}

void atomic_output::write(const void* data, std::size_t n) {
  if (n == 0) return;
  if (std::fwrite(data, 1, n, file_) != n) {
    throw tool_error(path_ + ": write failed (" + std::strerror(errno) + ")");
  }
  written_ += n;
}

void atomic_output::commit() {
  const bool flushed = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  const int err = errno;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!flushed || !closed) {
    throw tool_error(path_ + ": write failed (" + std::strerror(err) + ")");
  }
  if (std::rename(temp_.c_str(), path_.c_str()) != 0) {
    throw tool_error(path_ + ": cannot rename the finished file into place (" +
                     std::strerror(errno) + ")");
  }
  committed_ = true;
}

// ---- progress -----------------------------------------------------------------------------

bool stderr_is_terminal() { return ::isatty(2) != 0; }

progress::progress(std::size_t total, bool enabled)
    : total_(total), enabled_(enabled), tty_(stderr_is_terminal()) {}

progress::~progress() { done(); }

void progress::step(const std::string& label) {
  ++current_;
  if (!enabled_) return;
  if (tty_) {
    std::fprintf(stderr, "\r\033[K[%zu/%zu] %s", current_, total_, label.c_str());
    open_line_ = true;
  } else {
    std::fprintf(stderr, "[%zu/%zu] %s\n", current_, total_, label.c_str());
  }
  std::fflush(stderr);
}

void progress::done() {
  if (open_line_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    open_line_ = false;
  }
}

}  // namespace lowprec_cli
