// The binary container of optimizer checkpoints: framing, integrity and bounded reads.
// What goes inside is written by optim/adam.hpp (its save() documents the payload).
//
//   offset  bytes  field
//   0       8      magic "LPOPTIM\0"
//   8       4      format version (1)
//   12      4      reserved, 0
//   16      8      payload length L
//   24      L      payload
//   24+L    4      CRC-32 of bytes [0, 24+L)  (IEEE 802.3: reflected polynomial
//                  0xEDB88320, initial and final xor 0xFFFFFFFF; crc32("123456789") =
//                  0xCBF43926)
// Integers are little-endian; floats are their IEEE-754 bit patterns, little-endian.
// Readers never trust a length: every read is checked against the bytes present, and
// nothing is allocated beyond what the file actually holds.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <istream>
#include <ostream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace lowprec::optim {

// A checkpoint that cannot be read: truncated, corrupted, not a checkpoint, or of an
// unsupported version. (One that reads fine but belongs to a differently shaped
// optimizer raises std::invalid_argument.)
class checkpoint_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

inline constexpr char checkpoint_magic[8] = {'L', 'P', 'O', 'P', 'T', 'I', 'M', '\0'};
inline constexpr std::uint32_t checkpoint_version = 1;
inline constexpr std::size_t checkpoint_header = 24;

constexpr std::array<std::uint32_t, 256> make_crc32_table() noexcept {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
inline constexpr std::array<std::uint32_t, 256> crc32_table = make_crc32_table();

// CRC-32 of n bytes, continuing from a previous crc (0 to start).
inline std::uint32_t crc32(const std::uint8_t* p, std::size_t n, std::uint32_t crc = 0) noexcept {
  crc = ~crc;
  for (std::size_t i = 0; i < n; ++i) crc = crc32_table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

class byte_writer {
 public:
  void u8(std::uint8_t x) { out_.push_back(x); }
  void u32(std::uint32_t x) {
    for (int k = 0; k < 4; ++k) out_.push_back(static_cast<std::uint8_t>(x >> (8 * k)));
  }
  void u64(std::uint64_t x) {
    for (int k = 0; k < 8; ++k) out_.push_back(static_cast<std::uint8_t>(x >> (8 * k)));
  }
  void f32(float x) {
    std::uint32_t u = 0;
    std::memcpy(&u, &x, 4);
    u32(u);
  }
  void f64(double x) {
    std::uint64_t u = 0;
    std::memcpy(&u, &x, 8);
    u64(u);
  }
  void bytes(const std::uint8_t* p, std::size_t n) { out_.insert(out_.end(), p, p + n); }
  template <class T>
  void array(const std::vector<T>& v) {
    for (const T& x : v) {
      if constexpr (sizeof(T) == 1)
        u8(static_cast<std::uint8_t>(x));
      else if constexpr (std::is_same_v<T, float>)
        f32(x);
      else if constexpr (sizeof(T) == 2) {
        u8(static_cast<std::uint8_t>(x));
        u8(static_cast<std::uint8_t>(x >> 8));
      }
    }
  }
  std::vector<std::uint8_t>& out() noexcept { return out_; }

 private:
  std::vector<std::uint8_t> out_;
};

// Reads a payload; every read names what it reads, for the error message.
class byte_reader {
 public:
  byte_reader(const std::uint8_t* p, std::size_t n) noexcept : p_(p), n_(n) {}

  std::size_t remaining() const noexcept { return n_ - pos_; }
  std::size_t position() const noexcept { return pos_; }

  void need(std::size_t bytes, const char* what) const {
    if (bytes > remaining()) {
      throw checkpoint_error("lowprec::optim checkpoint: truncated: " + std::to_string(bytes) +
                             " bytes of " + what + " needed at payload offset " +
                             std::to_string(pos_) + ", " + std::to_string(remaining()) + " left");
    }
  }
  std::uint8_t u8(const char* what) {
    need(1, what);
    return p_[pos_++];
  }
  std::uint32_t u32(const char* what) {
    need(4, what);
    std::uint32_t x = 0;
    for (int k = 0; k < 4; ++k)
      x |= std::uint32_t{p_[pos_ + static_cast<std::size_t>(k)]} << (8 * k);
    pos_ += 4;
    return x;
  }
  std::uint64_t u64(const char* what) {
    need(8, what);
    std::uint64_t x = 0;
    for (int k = 0; k < 8; ++k)
      x |= std::uint64_t{p_[pos_ + static_cast<std::size_t>(k)]} << (8 * k);
    pos_ += 8;
    return x;
  }
  float f32(const char* what) {
    const std::uint32_t u = u32(what);
    float x = 0;
    std::memcpy(&x, &u, 4);
    return x;
  }
  double f64(const char* what) {
    const std::uint64_t u = u64(what);
    double x = 0;
    std::memcpy(&x, &u, 8);
    return x;
  }
  // count elements of T; the size is checked before anything is allocated.
  template <class T>
  std::vector<T> array(std::size_t count, const char* what) {
    if (count > remaining() / sizeof(T)) need(count * sizeof(T), what);  // throws
    std::vector<T> v(count);
    for (T& x : v) {
      if constexpr (sizeof(T) == 1)
        x = static_cast<T>(u8(what));
      else if constexpr (std::is_same_v<T, float>)
        x = f32(what);
      else if constexpr (sizeof(T) == 2) {
        const std::uint8_t lo = u8(what);
        x = static_cast<T>(lo | (std::uint32_t{u8(what)} << 8));
      }
    }
    return v;
  }

 private:
  const std::uint8_t* p_;
  std::size_t n_;
  std::size_t pos_ = 0;
};

// Frames a payload: header + payload + CRC.
inline std::vector<std::uint8_t> frame_checkpoint(const std::vector<std::uint8_t>& payload) {
  byte_writer w;
  w.bytes(reinterpret_cast<const std::uint8_t*>(checkpoint_magic), 8);
  w.u32(checkpoint_version);
  w.u32(0);
  w.u64(payload.size());
  w.bytes(payload.data(), payload.size());
  w.u32(crc32(w.out().data(), w.out().size()));
  return std::move(w.out());
}

// Checks the frame of a whole file and returns the payload's [begin, end).
inline std::pair<std::size_t, std::size_t> unframe_checkpoint(const std::uint8_t* p,
                                                              std::size_t n) {
  const std::string where = "lowprec::optim checkpoint: ";
  if (n < checkpoint_header + 4) {
    throw checkpoint_error(where + "truncated: " + std::to_string(n) +
                           " bytes, smaller than the 28-byte header and checksum");
  }
  if (std::memcmp(p, checkpoint_magic, 8) != 0) {
    throw checkpoint_error(where + "bad magic: not a lowprec optimizer checkpoint");
  }
  byte_reader h(p + 8, 16);
  const std::uint32_t version = h.u32("version");
  if (version != checkpoint_version) {
    throw checkpoint_error(where + "unsupported format version " + std::to_string(version) +
                           " (this build reads version " + std::to_string(checkpoint_version) +
                           ")");
  }
  const std::uint32_t reserved = h.u32("reserved");
  if (reserved != 0) {
    throw checkpoint_error(where + "reserved header field is " + std::to_string(reserved) +
                           ", not 0");
  }
  const std::uint64_t length = h.u64("payload length");
  if (length != n - checkpoint_header - 4) {
    throw checkpoint_error(where + "payload length field says " + std::to_string(length) +
                           " bytes but the file holds " +
                           std::to_string(n - checkpoint_header - 4) +
                           " (truncated or trailing data)");
  }
  const std::size_t body = checkpoint_header + static_cast<std::size_t>(length);
  std::uint32_t stored = 0;
  for (int k = 0; k < 4; ++k)
    stored |= std::uint32_t{p[body + static_cast<std::size_t>(k)]} << (8 * k);
  const std::uint32_t actual = crc32(p, body);
  if (stored != actual) {
    throw checkpoint_error(where + "checksum mismatch (stored " + std::to_string(stored) +
                           ", computed " + std::to_string(actual) + "): the file is corrupted");
  }
  return {checkpoint_header, body};
}

// Reads a whole checkpoint from a stream: the header first, then at most the payload
// length it announces, in bounded pieces (a corrupted length cannot make us allocate
// more than the stream holds).
inline std::vector<std::uint8_t> read_checkpoint_bytes(std::istream& in) {
  std::vector<std::uint8_t> bytes(checkpoint_header);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(checkpoint_header));
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  if (bytes.size() < checkpoint_header) return bytes;  // unframe reports the truncation
  byte_reader h(bytes.data() + 16, 8);
  const std::uint64_t length = h.u64("payload length");
  std::uint64_t want = length > UINT64_MAX - 4 ? UINT64_MAX : length + 4;
  constexpr std::size_t piece = std::size_t{1} << 20;
  while (want > 0 && in) {
    const std::size_t k = want < piece ? static_cast<std::size_t>(want) : piece;
    const std::size_t old = bytes.size();
    bytes.resize(old + k);
    in.read(reinterpret_cast<char*>(bytes.data() + old), static_cast<std::streamsize>(k));
    const auto got = static_cast<std::size_t>(in.gcount());
    bytes.resize(old + got);
    want -= got;
    if (got < k) break;
  }
  return bytes;
}

}  // namespace detail
}  // namespace lowprec::optim
