#include "tensor_io.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <utility>

#include "lowprec/bf16.hpp"
#include "lowprec/fp16.hpp"

namespace lowprec_cli {

const char* to_string(dtype t) noexcept {
  switch (t) {
    case dtype::f32: return "float32";
    case dtype::f16: return "float16";
    case dtype::bf16: return "bfloat16";
    case dtype::f64: return "float64";
  }
  return "unknown";
}

std::size_t size_of(dtype t) noexcept {
  switch (t) {
    case dtype::f32: return 4;
    case dtype::f16:
    case dtype::bf16: return 2;
    case dtype::f64: return 8;
  }
  return 4;
}

namespace {

constexpr std::uint64_t kMaxNpyHeader = 1u << 20;            // numpy itself stays far below
constexpr std::uint64_t kMaxSafetensorsHeader = 100000000;   // the safetensors spec's limit
constexpr std::size_t kMaxRank = 32;
constexpr std::size_t kMaxJsonDepth = 16;

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Elements of a shape, with a tool_error if the product (or its byte size) overflows.
std::size_t checked_count(const std::vector<std::size_t>& shape, std::size_t item,
                          const std::string& where) {
  std::size_t n = 1;
  for (const std::size_t d : shape) {
    if (d != 0 && n > std::numeric_limits<std::size_t>::max() / d) {
      throw tool_error(where + ": shape " + shape_text(shape) + " has too many elements");
    }
    n *= d;
  }
  if (n != 0 && n > std::numeric_limits<std::size_t>::max() / item) {
    throw tool_error(where + ": shape " + shape_text(shape) + " has too many bytes");
  }
  return n;
}

std::uint64_t le(const std::uint8_t* p, int bytes) noexcept {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// ---- npy ------------------------------------------------------------------------------------
// The header is a Python dict literal: {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }

class dict_scanner {
 public:
  dict_scanner(const std::string& s, const std::string& where) : s_(s), where_(where) {}

  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool accept(char c) {
    skip_space();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  void expect(char c, const char* what) {
    if (!accept(c)) fail(std::string("expected ") + what);
  }
  std::string string_literal() {
    skip_space();
    if (i_ >= s_.size() || (s_[i_] != '\'' && s_[i_] != '"')) fail("expected a quoted string");
    const char q = s_[i_++];
    std::string out;
    while (i_ < s_.size() && s_[i_] != q) {
      if (s_[i_] == '\\') fail("escape sequences are not expected in an npy header");
      out += s_[i_++];
    }
    if (i_ >= s_.size()) fail("unterminated string");
    ++i_;
    return out;
  }
  bool boolean() {
    skip_space();
    if (s_.compare(i_, 4, "True") == 0) {
      i_ += 4;
      return true;
    }
    if (s_.compare(i_, 5, "False") == 0) {
      i_ += 5;
      return false;
    }
    fail("expected True or False");
    return false;
  }
  std::vector<std::size_t> tuple() {
    expect('(', "'(' to open the shape");
    std::vector<std::size_t> dims;
    while (!accept(')')) {
      if (dims.size() >= kMaxRank) fail("shape has more than " + std::to_string(kMaxRank) + " dimensions");
      skip_space();
      std::uint64_t v = 0;
      std::size_t digits = 0;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
        const auto d = static_cast<std::uint64_t>(s_[i_] - '0');
        if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) fail("shape dimension is too large");
        v = v * 10 + d;
        ++i_;
        ++digits;
      }
      if (digits == 0) fail("expected a non-negative integer in the shape");
      if (i_ < s_.size() && s_[i_] == 'L') ++i_;  // Python 2 long
      if (v > std::numeric_limits<std::size_t>::max()) fail("shape dimension is too large");
      dims.push_back(static_cast<std::size_t>(v));
      if (!accept(',')) {
        expect(')', "',' or ')' in the shape");
        break;
      }
    }
    return dims;
  }
  bool at_end() {
    skip_space();
    return i_ == s_.size();
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw tool_error(where_ + ": malformed npy header: " + what + " at offset " + std::to_string(i_));
  }

 private:
  const std::string& s_;
  const std::string& where_;
  std::size_t i_ = 0;
};

tensor_listing parse_npy(const std::uint8_t* p, std::size_t have, std::uint64_t file_size,
                         const std::string& where) {
  if (have < 10) {
    throw tool_error(where + ": truncated npy header (file has " + std::to_string(have) +
                     " bytes; the preamble alone is 10)");
  }
  const int major = p[6];
  if (major < 1 || major > 3) {
    throw tool_error(where + ": unsupported npy version " + std::to_string(major) + "." +
                     std::to_string(p[7]) + " (1.0, 2.0 and 3.0 are read)");
  }
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  if (have < 8 + len_bytes) throw tool_error(where + ": truncated npy header (no header length)");
  const std::uint64_t header_len = le(p + 8, static_cast<int>(len_bytes));
  const std::uint64_t data_start = 8 + len_bytes + header_len;
  if (header_len > kMaxNpyHeader) {
    throw tool_error(where + ": npy header length " + std::to_string(header_len) +
                     " is implausible (limit " + std::to_string(kMaxNpyHeader) + ")");
  }
  if (data_start > have) {
    throw tool_error(where + ": truncated npy header (declares " + std::to_string(header_len) +
                     " bytes, file has " + std::to_string(have - 8 - len_bytes) + " after the preamble)");
  }
  const std::string header(reinterpret_cast<const char*>(p) + 8 + len_bytes,
                           static_cast<std::size_t>(header_len));
  dict_scanner s(header, where);
  s.expect('{', "'{'");
  std::string descr;
  bool fortran = false, have_descr = false, have_fortran = false, have_shape = false;
  std::vector<std::size_t> shape;
  while (!s.accept('}')) {
    const std::string key = s.string_literal();
    s.expect(':', "':' after a key");
    if (key == "descr" && !have_descr) {
      descr = s.string_literal();
      have_descr = true;
    } else if (key == "fortran_order" && !have_fortran) {
      fortran = s.boolean();
      have_fortran = true;
    } else if (key == "shape" && !have_shape) {
      shape = s.tuple();
      have_shape = true;
    } else {
      s.fail("unexpected or repeated key '" + key + "'");
    }
    if (!s.accept(',')) {
      s.expect('}', "',' or '}'");
      break;
    }
  }
  if (!s.at_end()) s.fail("unexpected text after the dict");
  if (!have_descr || !have_fortran || !have_shape) {
    throw tool_error(where + ": malformed npy header: needs the keys descr, fortran_order and shape");
  }
  tensor_entry e;
  e.name = "array";
  const bool endian_ok = descr.size() == 3 && (descr[0] == '<' || descr[0] == '>' || descr[0] == '=');
  const std::string kind = descr.size() == 3 ? descr.substr(1) : descr;
  if (endian_ok && kind == "f4") {
    e.type = dtype::f32;
  } else if (endian_ok && kind == "f2") {
    e.type = dtype::f16;
  } else if (endian_ok && kind == "f8") {
    e.type = dtype::f64;
  } else {
    throw tool_error(where + ": unsupported npy dtype '" + descr +
                     "' (float32 '<f4', float16 '<f2' and float64 '<f8' are read)");
  }
  e.big_endian = descr[0] == '>';
  e.fortran_order = fortran;
  e.shape = shape;
  e.count = checked_count(shape, size_of(e.type), where);
  e.nbytes = static_cast<std::uint64_t>(e.count) * size_of(e.type);
  e.offset = data_start;
  const std::uint64_t data_have = file_size - data_start;
  if (data_have != e.nbytes) {
    throw tool_error(where + ": " + (data_have < e.nbytes ? "truncated npy data" : "npy data too long") +
                     ": shape " + shape_text(shape) + " of " + to_string(e.type) + " needs " +
                     std::to_string(e.nbytes) + " bytes, the file has " + std::to_string(data_have));
  }
  tensor_listing l;
  l.kind = container::npy;
  l.tensors.push_back(std::move(e));
  return l;
}

// ---- JSON (safetensors header) -------------------------------------------------------------

struct json {
  enum kind_t { null, boolean, number, string, array, object } kind = null;
  std::string text;                 // string value, or the number's text
  std::vector<json> items;          // array elements, object values
  std::vector<std::string> keys;    // object keys (same order as items)
};

class json_parser {
 public:
  json_parser(const std::string& s, const std::string& where) : s_(s), where_(where) {}

  json parse_document() {
    json v = value(0);
    space();
    if (i_ != s_.size()) fail("unexpected text after the header object");
    return v;
  }

 private:
  void space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw tool_error(where_ + ": malformed safetensors header: " + what + " at byte " +
                     std::to_string(i_ + 8));
  }
  json value(std::size_t depth) {
    if (depth > kMaxJsonDepth) fail("nested too deeply");
    space();
    if (i_ >= s_.size()) fail("unexpected end of the header");
    const char c = s_[i_];
    json v;
    if (c == '{') {
      v.kind = json::object;
      ++i_;
      space();
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return v;
      }
      for (;;) {
        space();
        if (i_ >= s_.size() || s_[i_] != '"') fail("expected a string key");
        v.keys.push_back(string_value());
        space();
        if (i_ >= s_.size() || s_[i_] != ':') fail("expected ':'");
        ++i_;
        v.items.push_back(value(depth + 1));
        space();
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < s_.size() && s_[i_] == '}') {
          ++i_;
          return v;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      v.kind = json::array;
      ++i_;
      space();
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return v;
      }
      for (;;) {
        v.items.push_back(value(depth + 1));
        space();
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < s_.size() && s_[i_] == ']') {
          ++i_;
          return v;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c == '"') {
      v.kind = json::string;
      v.text = string_value();
      return v;
    }
    if (literal("true")) {
      v.kind = json::boolean;
      v.text = "true";
      return v;
    }
    if (literal("false")) {
      v.kind = json::boolean;
      v.text = "false";
      return v;
    }
    if (literal("null")) return v;
    if (c == '-' || (c >= '0' && c <= '9')) {
      v.kind = json::number;
      const std::size_t start = i_;
      if (s_[i_] == '-') ++i_;
      while (i_ < s_.size() && ((s_[i_] >= '0' && s_[i_] <= '9') || s_[i_] == '.' || s_[i_] == 'e' ||
                                s_[i_] == 'E' || s_[i_] == '+' || s_[i_] == '-')) {
        ++i_;
      }
      v.text = s_.substr(start, i_ - start);
      return v;
    }
    fail(std::string("unexpected character '") + (c >= 32 && c < 127 ? std::string(1, c) : "?") + "'");
  }
  bool literal(const char* word) {
    const std::size_t n = std::strlen(word);
    if (s_.compare(i_, n, word) == 0) {
      i_ += n;
      return true;
    }
    return false;
  }
  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  unsigned hex4() {
    if (s_.size() - i_ < 4) fail("truncated \\u escape");
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = s_[i_++];
      v <<= 4;
      if (h >= '0' && h <= '9') v |= static_cast<unsigned>(h - '0');
      else if (h >= 'a' && h <= 'f') v |= static_cast<unsigned>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') v |= static_cast<unsigned>(h - 'A' + 10);
      else fail("bad \\u escape");
    }
    return v;
  }
  std::string string_value() {
    ++i_;  // the opening quote
    std::string out;
    for (;;) {
      if (i_ >= s_.size()) fail("unterminated string");
      const char c = s_[i_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) fail("unterminated string");
      const char e = s_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00) {  // a surrogate pair
            if (s_.compare(i_, 2, "\\u") != 0) fail("unpaired surrogate");
            i_ += 2;
            const unsigned lo = hex4();
            if (lo < 0xDC00 || lo >= 0xE000) fail("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            fail("unpaired surrogate");
          }
          append_utf8(out, cp);
          break;
        }
        default: fail("bad escape");
      }
    }
  }

  const std::string& s_;
  const std::string& where_;
  std::size_t i_ = 0;
};

// A JSON number that must be a non-negative integer below 2^63.
std::uint64_t json_index(const json& v, const std::string& what, const std::string& where) {
  const auto bad = [&]() {
    return tool_error(where + ": malformed safetensors header: " + what +
                      " must be a non-negative integer, got '" + v.text + "'");
  };
  if (v.kind != json::number || v.text.empty() || v.text.size() > 19) throw bad();
  std::uint64_t n = 0;
  for (const char c : v.text) {
    if (c < '0' || c > '9') throw bad();
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

tensor_listing parse_safetensors(const std::uint8_t* p, std::size_t have, std::uint64_t file_size,
                                 const std::string& where, bool skip_unsupported) {
  if (have < 8) throw tool_error(where + ": truncated safetensors header (no length)");
  const std::uint64_t n = le(p, 8);
  if (n > kMaxSafetensorsHeader) {
    throw tool_error(where + ": safetensors header length " + std::to_string(n) +
                     " is implausible (limit " + std::to_string(kMaxSafetensorsHeader) + ")");
  }
  if (n + 8 > have) {
    throw tool_error(where + ": truncated safetensors header (declares " + std::to_string(n) +
                     " bytes, file has " + std::to_string(have - 8) + ")");
  }
  const std::string text(reinterpret_cast<const char*>(p) + 8, static_cast<std::size_t>(n));
  const json doc = json_parser(text, where).parse_document();
  if (doc.kind != json::object) {
    throw tool_error(where + ": malformed safetensors header: not a JSON object");
  }
  const std::uint64_t data_start = 8 + n;
  const std::uint64_t data_size = file_size - data_start;
  tensor_listing l;
  l.kind = container::safetensors;
  for (std::size_t k = 0; k < doc.keys.size(); ++k) {
    const std::string& name = doc.keys[k];
    const json& t = doc.items[k];
    const std::string at = where + ": tensor '" + name + "'";
    for (std::size_t j = 0; j < k; ++j) {
      if (doc.keys[j] == name) throw tool_error(at + " appears twice in the header");
    }
    if (name == "__metadata__") {
      if (t.kind != json::object) throw tool_error(where + ": __metadata__ is not an object");
      continue;
    }
    if (t.kind != json::object) throw tool_error(at + ": entry is not an object");
    const json *dt = nullptr, *shape = nullptr, *offsets = nullptr;
    for (std::size_t j = 0; j < t.keys.size(); ++j) {
      if (t.keys[j] == "dtype") dt = &t.items[j];
      else if (t.keys[j] == "shape") shape = &t.items[j];
      else if (t.keys[j] == "data_offsets") offsets = &t.items[j];
    }
    if (dt == nullptr || shape == nullptr || offsets == nullptr || dt->kind != json::string ||
        shape->kind != json::array || offsets->kind != json::array || offsets->items.size() != 2) {
      throw tool_error(at + ": needs dtype (string), shape (array) and data_offsets ([begin, end])");
    }
    tensor_entry e;
    e.name = name;
    if (dt->text == "F32") {
      e.type = dtype::f32;
    } else if (dt->text == "F16") {
      e.type = dtype::f16;
    } else if (dt->text == "BF16") {
      e.type = dtype::bf16;
    } else if (dt->text == "F64") {
      e.type = dtype::f64;
    } else if (skip_unsupported) {
      l.skipped.push_back(name + " (" + dt->text + ")");
      continue;
    } else {
      throw tool_error(at + ": unsupported dtype '" + dt->text +
                       "' (F32, F16, BF16 and F64 are read; --skip-unsupported skips the rest)");
    }
    if (shape->items.size() > kMaxRank) throw tool_error(at + ": shape has too many dimensions");
    for (const json& d : shape->items) {
      const std::uint64_t v = json_index(d, "a shape dimension of '" + name + "'", where);
      if (v > std::numeric_limits<std::size_t>::max()) throw tool_error(at + ": shape dimension too large");
      e.shape.push_back(static_cast<std::size_t>(v));
    }
    e.count = checked_count(e.shape, size_of(e.type), at);
    const std::uint64_t begin = json_index(offsets->items[0], "data_offsets of '" + name + "'", where);
    const std::uint64_t end = json_index(offsets->items[1], "data_offsets of '" + name + "'", where);
    if (begin > end || end > data_size) {
      throw tool_error(at + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                       "] lie outside the " + std::to_string(data_size) +
                       " data bytes (truncated or corrupted file)");
    }
    e.nbytes = end - begin;
    if (e.nbytes != static_cast<std::uint64_t>(e.count) * size_of(e.type)) {
      throw tool_error(at + ": data_offsets span " + std::to_string(e.nbytes) + " bytes, shape " +
                       shape_text(e.shape) + " of " + dt->text + " needs " +
                       std::to_string(static_cast<std::uint64_t>(e.count) * size_of(e.type)));
    }
    e.offset = data_start + begin;
    l.tensors.push_back(std::move(e));
  }
  return l;
}

bool starts_with(const std::uint8_t* p, std::size_t n, const char* magic, std::size_t m) {
  return n >= m && std::memcmp(p, magic, m) == 0;
}

tensor_listing sniff_and_parse(const std::uint8_t* p, std::size_t have, std::uint64_t file_size,
                               const std::string& where, bool skip_unsupported) {
  if (starts_with(p, have, "\x93NUMPY", 6)) return parse_npy(p, have, file_size, where);
  if (starts_with(p, have, "LOWPRECQ", 8)) {
    throw tool_error(where + ": is a lowprec quantized file; read it with 'lowprec dequantize'");
  }
  // safetensors: an 8-byte length, then a JSON object.
  if (have >= 9 && p[8] == '{') return parse_safetensors(p, have, file_size, where, skip_unsupported);
  if (have < 9) {
    throw tool_error(where + ": file too short (" + std::to_string(have) +
                     " bytes) to be .npy or .safetensors");
  }
  throw tool_error(where + ": not a .npy or .safetensors file (unrecognised first bytes)");
}

std::uint64_t file_size_of(std::ifstream& in, const std::string& path) {
  in.seekg(0, std::ios::end);
  const auto end = in.tellg();
  in.seekg(0, std::ios::beg);
  if (end < 0 || !in) throw tool_error(path + ": cannot determine the file size");
  return static_cast<std::uint64_t>(end);
}

std::ifstream open_input(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw tool_error(path + ": cannot open (" + std::strerror(errno) + ")");
  return in;
}

void read_exact(std::ifstream& in, std::uint8_t* dst, std::uint64_t n, const std::string& path) {
  in.read(reinterpret_cast<char*>(dst), static_cast<std::streamsize>(n));
  if (static_cast<std::uint64_t>(in.gcount()) != n) {
    throw tool_error(path + ": read failed (the file changed or is unreadable)");
  }
}

}  // namespace

tensor_listing list_tensors(const std::vector<std::uint8_t>& file, const std::string& where,
                            bool skip_unsupported) {
  return sniff_and_parse(file.data(), file.size(), file.size(), where, skip_unsupported);
}

tensor_listing list_tensors(const std::string& path, bool skip_unsupported) {
  std::ifstream in = open_input(path);
  const std::uint64_t size = file_size_of(in, path);
  // Enough for any npy preamble and header; a safetensors header is read in full below.
  std::vector<std::uint8_t> head(static_cast<std::size_t>(std::min<std::uint64_t>(size, 16)));
  read_exact(in, head.data(), head.size(), path);
  std::uint64_t want = size;
  if (starts_with(head.data(), head.size(), "\x93NUMPY", 6) && head.size() >= 12) {
    const std::uint64_t len = head[6] == 1 ? le(head.data() + 8, 2) : le(head.data() + 8, 4);
    want = std::min<std::uint64_t>(size, 12 + std::min<std::uint64_t>(len, kMaxNpyHeader + 1));
  } else if (head.size() >= 8 && !starts_with(head.data(), head.size(), "\x93NUMPY", 6)) {
    want = std::min<std::uint64_t>(size, 8 + std::min<std::uint64_t>(le(head.data(), 8),
                                                                       kMaxSafetensorsHeader + 1));
  }
  std::vector<std::uint8_t> prefix(static_cast<std::size_t>(want));
  in.seekg(0, std::ios::beg);
  read_exact(in, prefix.data(), prefix.size(), path);
  return sniff_and_parse(prefix.data(), prefix.size(), size, path, skip_unsupported);
}

tensor_values decode_tensor(const std::uint8_t* bytes, const tensor_entry& e) {
  tensor_values v;
  const std::size_t n = e.count;
  const std::size_t item = size_of(e.type);
  const auto word = [&](std::size_t i) {
    const std::uint8_t* p = bytes + i * item;
    std::uint64_t w = 0;
    if (e.big_endian) {
      for (std::size_t k = 0; k < item; ++k) w = (w << 8) | p[k];
    } else {
      w = le(p, static_cast<int>(item));
    }
    return w;
  };
  // Memory order -> row-major order (Fortran arrays are stored column-major).
  std::vector<std::size_t> perm;
  if (e.fortran_order && e.shape.size() > 1) {
    perm.resize(n);
    const std::size_t r = e.shape.size();
    std::vector<std::size_t> idx(r, 0), stride(r, 1);
    for (std::size_t d = 1; d < r; ++d) stride[d] = stride[d - 1] * e.shape[d - 1];
    std::size_t mem = 0;
    for (std::size_t out = 0; out < n; ++out) {
      perm[out] = mem;
      for (std::size_t d = r; d-- > 0;) {  // row-major odometer, last index fastest
        mem += stride[d];
        if (++idx[d] < e.shape[d]) break;
        mem -= stride[d] * e.shape[d];
        idx[d] = 0;
      }
    }
  }
  const auto src = [&](std::size_t i) { return perm.empty() ? i : perm[i]; };
  if (e.type == dtype::f64) {
    v.d.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t w = word(src(i));
      std::memcpy(&v.d[i], &w, 8);
    }
    return v;
  }
  v.f.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t w = word(src(i));
    switch (e.type) {
      case dtype::f32: {
        const auto u = static_cast<std::uint32_t>(w);
        std::memcpy(&v.f[i], &u, 4);
        break;
      }
      case dtype::f16: v.f[i] = lowprec::fp16::from_bits(static_cast<std::uint16_t>(w)); break;
      case dtype::bf16: v.f[i] = lowprec::bf16::from_bits(static_cast<std::uint16_t>(w)); break;
      case dtype::f64: break;
    }
  }
  return v;
}

tensor_values read_tensor(const std::string& path, const tensor_entry& e) {
  std::ifstream in = open_input(path);
  const std::uint64_t size = file_size_of(in, path);
  if (e.offset > size || e.nbytes > size - e.offset) {
    throw tool_error(path + ": tensor '" + e.name + "' lies beyond the end of the file");
  }
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(e.nbytes));
  in.seekg(static_cast<std::streamoff>(e.offset), std::ios::beg);
  read_exact(in, bytes.data(), bytes.size(), path);
  return decode_tensor(bytes.data(), e);
}

std::vector<std::uint8_t> read_file(const std::string& path) {
  std::ifstream in = open_input(path);
  const std::uint64_t size = file_size_of(in, path);
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  read_exact(in, bytes.data(), bytes.size(), path);
  return bytes;
}

// ---- writers ----------------------------------------------------------------------------------

std::vector<std::uint8_t> npy_header_f32(const std::vector<std::size_t>& shape) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    dict += std::to_string(shape[i]);
    if (i + 1 < shape.size() || shape.size() == 1) dict += ",";
    if (i + 1 < shape.size()) dict += " ";
  }
  dict += "), }";
  // Pad with spaces and a final newline so the data starts on a 64-byte boundary (numpy).
  std::size_t total = 10 + dict.size() + 1;
  const std::size_t pad = (64 - total % 64) % 64;
  dict.append(pad, ' ');
  dict += '\n';
  total = 10 + dict.size();
  std::vector<std::uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  const std::size_t len = dict.size();
  if (len > 0xFFFF) throw tool_error("npy: shape too long for a version 1.0 header");
  out.push_back(static_cast<std::uint8_t>(len & 0xFF));
  out.push_back(static_cast<std::uint8_t>(len >> 8));
  out.insert(out.end(), dict.begin(), dict.end());
  (void)total;
  return out;
}

std::vector<std::uint8_t> safetensors_header_f32(const std::vector<named_shape>& tensors) {
  const auto quote = [](const std::string& s) {
    std::string q = "\"";
    for (const char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        q += '\\';
        q += c;
      } else if (u < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", u);
        q += buf;
      } else {
        q += c;
      }
    }
    return q + "\"";
  };
  std::string json = "{";
  std::uint64_t offset = 0;
  for (std::size_t t = 0; t < tensors.size(); ++t) {
    const std::size_t n = checked_count(tensors[t].shape, 4, "safetensors");
    json += (t ? "," : "") + quote(tensors[t].name) + ":{\"dtype\":\"F32\",\"shape\":[";
    for (std::size_t i = 0; i < tensors[t].shape.size(); ++i) {
      json += (i ? "," : "") + std::to_string(tensors[t].shape[i]);
    }
    json += "],\"data_offsets\":[" + std::to_string(offset) + "," +
            std::to_string(offset + 4 * static_cast<std::uint64_t>(n)) + "]}";
    offset += 4 * static_cast<std::uint64_t>(n);
  }
  json += "}";
  json.append((8 - json.size() % 8) % 8, ' ');  // data 8-byte aligned, as the spec advises
  std::vector<std::uint8_t> out(8);
  const std::uint64_t len = json.size();
  for (int k = 0; k < 8; ++k) out[static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(len >> (8 * k));
  out.insert(out.end(), json.begin(), json.end());
  return out;
}

void append_f32_le(std::vector<std::uint8_t>& out, const float* data, std::size_t n) {
  const std::size_t start = out.size();
  out.resize(start + 4 * n);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t u = 0;
    std::memcpy(&u, &data[i], 4);
    for (int k = 0; k < 4; ++k) out[start + 4 * i + static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(u >> (8 * k));
  }
}

// ---- LPQ ----------------------------------------------------------------------------------------

namespace {

constexpr char kLpqMagic[8] = {'L', 'O', 'W', 'P', 'R', 'E', 'C', 'Q'};
constexpr std::uint32_t kLpqVersion = 1;
constexpr std::uint32_t kMaxTensors = 1u << 20;
constexpr std::uint32_t kMaxSections = 16;
constexpr std::uint32_t kMaxLpqRank = 16;

class byte_reader {
 public:
  byte_reader(const std::uint8_t* p, std::size_t n, const std::string& where)
      : p_(p), n_(n), where_(where) {}
  std::uint64_t u(int bytes, const char* field) {
    need(static_cast<std::size_t>(bytes), field);
    const std::uint64_t v = le(p_ + i_, bytes);
    i_ += static_cast<std::size_t>(bytes);
    return v;
  }
  const std::uint8_t* take(std::uint64_t bytes, const char* field) {
    need(bytes, field);
    const std::uint8_t* at = p_ + i_;
    i_ += static_cast<std::size_t>(bytes);
    return at;
  }
  std::size_t left() const noexcept { return n_ - i_; }
  std::size_t pos() const noexcept { return i_; }
  [[noreturn]] void fail(const std::string& what) const {
    throw tool_error(where_ + ": corrupted lowprec quantized file: " + what + " at byte " +
                     std::to_string(i_));
  }

 private:
  void need(std::uint64_t bytes, const char* field) const {
    if (bytes > n_ - i_) {
      throw tool_error(where_ + ": truncated lowprec quantized file: " + field + " needs " +
                       std::to_string(bytes) + " bytes at byte " + std::to_string(i_) + ", " +
                       std::to_string(n_ - i_) + " left");
    }
  }
  const std::uint8_t* p_;
  std::size_t n_, i_ = 0;
  const std::string& where_;
};

void put_le(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
  for (int k = 0; k < bytes; ++k) out.push_back(static_cast<std::uint8_t>(v >> (8 * k)));
}

unsigned long crc_update(unsigned long crc, const std::uint8_t* p, std::size_t n) {
  while (n > 0) {  // zlib takes uInt lengths
    const auto chunk = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
    crc = crc32(crc, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return crc;
}

}  // namespace

const lpq_section* lpq_tensor::find(std::uint8_t id) const noexcept {
  for (const lpq_section& s : sections) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

bool is_lpq(const std::vector<std::uint8_t>& first_bytes) noexcept {
  return first_bytes.size() >= 8 && std::memcmp(first_bytes.data(), kLpqMagic, 8) == 0;
}

std::vector<lpq_tensor> parse_lpq(const std::vector<std::uint8_t>& file, const std::string& where) {
  if (!is_lpq(file)) {
    throw tool_error(where + ": not a lowprec quantized file (no LOWPRECQ magic; write one with "
                     "'lowprec quantize --out')");
  }
  if (file.size() < 20) throw tool_error(where + ": truncated lowprec quantized file (" + std::to_string(file.size()) + " bytes)");
  byte_reader r(file.data(), file.size() - 4, where);  // the CRC is the last 4 bytes
  r.take(8, "magic");
  const std::uint64_t version = r.u(4, "version");
  if (version != kLpqVersion) {
    throw tool_error(where + ": lowprec quantized file version " + std::to_string(version) +
                     " is not supported (this tool reads version 1)");
  }
  const std::uint64_t count = r.u(4, "tensor count");
  if (count > kMaxTensors) r.fail("tensor count " + std::to_string(count) + " is implausible");
  std::vector<lpq_tensor> out;
  for (std::uint64_t t = 0; t < count; ++t) {
    lpq_tensor x;
    const std::uint64_t name_len = r.u(4, "name length");
    if (name_len == 0 || name_len > 65535) r.fail("name length " + std::to_string(name_len));
    const std::uint8_t* name = r.take(name_len, "name");
    x.name.assign(reinterpret_cast<const char*>(name), static_cast<std::size_t>(name_len));
    if (x.name.find('\0') != std::string::npos) r.fail("NUL in a tensor name");
    x.scheme = static_cast<std::uint8_t>(r.u(1, "scheme"));
    const std::uint64_t src = r.u(1, "source dtype");
    if (src > 3) r.fail("source dtype " + std::to_string(src));
    x.source = static_cast<dtype>(src);
    if (r.u(2, "reserved") != 0) r.fail("reserved field is not zero");
    const std::uint64_t rank = r.u(4, "rank");
    if (rank > kMaxLpqRank) r.fail("rank " + std::to_string(rank));
    for (std::uint64_t d = 0; d < rank; ++d) {
      const std::uint64_t dim = r.u(8, "dimension");
      if (dim > std::numeric_limits<std::size_t>::max()) r.fail("dimension too large");
      x.shape.push_back(static_cast<std::size_t>(dim));
    }
    checked_count(x.shape, 1, where + ": tensor '" + x.name + "'");
    x.block = r.u(8, "block");
    const std::uint64_t sections = r.u(4, "section count");
    if (sections > kMaxSections) r.fail("section count " + std::to_string(sections));
    for (std::uint64_t s = 0; s < sections; ++s) {
      lpq_section sec;
      sec.id = static_cast<std::uint8_t>(r.u(1, "section id"));
      const std::uint64_t type = r.u(1, "section type");
      if (type != 1 && type != 2) r.fail("section type " + std::to_string(type));
      sec.type = static_cast<section_type>(type);
      if (r.u(2, "reserved") != 0) r.fail("reserved field is not zero");
      const std::uint64_t n = r.u(8, "section length");
      const std::uint64_t item = sec.type == section_type::u8 ? 1 : 4;
      if (n > r.left() / item) {  // checked before allocating anything
        throw tool_error(where + ": truncated lowprec quantized file: section of " +
                         std::to_string(n) + " elements in tensor '" + x.name + "' runs past the end");
      }
      const std::uint8_t* p = r.take(n * item, "section");
      if (sec.type == section_type::u8) {
        sec.u8.assign(p, p + n);
      } else {
        sec.f32.resize(static_cast<std::size_t>(n));
        for (std::size_t i = 0; i < sec.f32.size(); ++i) {
          const auto u = static_cast<std::uint32_t>(le(p + 4 * i, 4));
          std::memcpy(&sec.f32[i], &u, 4);
        }
      }
      if (x.find(sec.id) != nullptr) r.fail("section " + std::to_string(sec.id) + " repeated");
      x.sections.push_back(std::move(sec));
    }
    out.push_back(std::move(x));
  }
  if (r.left() != 0) r.fail(std::to_string(r.left()) + " unexpected bytes before the checksum");
  const auto stored = static_cast<unsigned long>(le(file.data() + file.size() - 4, 4));
  const unsigned long crc = crc_update(crc32(0L, Z_NULL, 0), file.data(), file.size() - 4);
  if (crc != stored) throw tool_error(where + ": corrupted lowprec quantized file: checksum mismatch");
  return out;
}

std::vector<lpq_tensor> read_lpq(const std::string& path) { return parse_lpq(read_file(path), path); }

void lpq_writer::put(const std::vector<std::uint8_t>& bytes) {
  crc_ = crc_update(crc_, bytes.data(), bytes.size());
  out_.write(bytes);
}

void lpq_writer::begin(std::uint32_t count) {
  crc_ = crc32(0L, Z_NULL, 0);
  std::vector<std::uint8_t> b(kLpqMagic, kLpqMagic + 8);
  put_le(b, kLpqVersion, 4);
  put_le(b, count, 4);
  put(b);
}

void lpq_writer::add(const lpq_tensor& t) {
  std::vector<std::uint8_t> b;
  put_le(b, t.name.size(), 4);
  b.insert(b.end(), t.name.begin(), t.name.end());
  b.push_back(t.scheme);
  b.push_back(static_cast<std::uint8_t>(t.source));
  put_le(b, 0, 2);
  put_le(b, t.shape.size(), 4);
  for (const std::size_t d : t.shape) put_le(b, d, 8);
  put_le(b, t.block, 8);
  put_le(b, t.sections.size(), 4);
  put(b);
  for (const lpq_section& s : t.sections) {
    std::vector<std::uint8_t> h;
    h.push_back(s.id);
    h.push_back(static_cast<std::uint8_t>(s.type));
    put_le(h, 0, 2);
    put_le(h, s.count(), 8);
    if (s.type == section_type::u8) {
      h.insert(h.end(), s.u8.begin(), s.u8.end());
    } else {
      append_f32_le(h, s.f32.data(), s.f32.size());
    }
    put(h);
  }
}

void lpq_writer::finish() {
  std::vector<std::uint8_t> b;
  put_le(b, crc_, 4);
  out_.write(b);
}

}  // namespace lowprec_cli
