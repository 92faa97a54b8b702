// Tensor files the `lowprec` tool reads and writes, parsed as hostile input: every size
// and offset in a header is checked against the file before anything is allocated or
// read, and every problem is a tool_error naming the file and the field.
//
//   format        read                                       written by
//   .npy          v1/v2/v3; float32, float16, float64 ('<',   dequantize --out x.npy
//                 '>' or '='), C or Fortran order
//   .safetensors  F32, F16, BF16, F64 (others: an error, or    dequantize --out x.safetensors
//                 skipped with --skip-unsupported)
//   .lpq          lowprec's quantized container (below)       quantize --out
//
// The format of a file is recognised by its first bytes, not by its name.
//
// LPQ, lowprec's quantized-tensor container (all integers little-endian; docs/cli.md):
//   magic "LOWPRECQ" | u32 version = 1 | u32 tensor count
//   per tensor: u32 name length (1..65535), name (UTF-8) | u8 scheme | u8 source dtype |
//     u16 0 | u32 rank (0..16) | u64 dims[rank] | u64 block (0: one scale per tensor) |
//     u32 section count (0..16) | per section: u8 id | u8 type (1: u8, 2: f32) | u16 0 |
//     u64 count | count elements
//   u32 CRC-32 (zlib) of every byte before it
// What the scheme and sections mean is the quantize command's business (quantize.cpp);
// this file only moves validated bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common.hpp"

namespace lowprec_cli {

enum class dtype : std::uint8_t { f32 = 0, f16 = 1, bf16 = 2, f64 = 3 };
const char* to_string(dtype t) noexcept;  // "float32", "float16", "bfloat16", "float64"
std::size_t size_of(dtype t) noexcept;

// One tensor in a file: where its bytes are and how to read them.
struct tensor_entry {
  std::string name;
  dtype type = dtype::f32;
  std::vector<std::size_t> shape;
  std::size_t count = 0;  // elements
  bool fortran_order = false;
  bool big_endian = false;
  std::uint64_t offset = 0;  // of the first data byte, from the start of the file
  std::uint64_t nbytes = 0;
};

enum class container { npy, safetensors };

struct tensor_listing {
  container kind = container::npy;
  std::vector<tensor_entry> tensors;
  std::vector<std::string> skipped;  // "name (I64)": with skip_unsupported only
};

// From the whole file in memory (tests) or from a path (reads the header only).
tensor_listing list_tensors(const std::vector<std::uint8_t>& file, const std::string& where,
                            bool skip_unsupported);
tensor_listing list_tensors(const std::string& path, bool skip_unsupported);

// A tensor's elements in row-major order: float32/float16/bfloat16 widened exactly to
// float (in `f`), float64 as double (in `d`).
struct tensor_values {
  std::vector<float> f;
  std::vector<double> d;
};
tensor_values decode_tensor(const std::uint8_t* bytes, const tensor_entry& e);
tensor_values read_tensor(const std::string& path, const tensor_entry& e);

// Writers (float32 data): headers, then the data as little-endian bytes.
std::vector<std::uint8_t> npy_header_f32(const std::vector<std::size_t>& shape);
struct named_shape {
  std::string name;
  std::vector<std::size_t> shape;
};
std::vector<std::uint8_t> safetensors_header_f32(const std::vector<named_shape>& tensors);
void append_f32_le(std::vector<std::uint8_t>& out, const float* data, std::size_t n);

// ---- LPQ ------------------------------------------------------------------------------------

enum class section_type : std::uint8_t { u8 = 1, f32 = 2 };
struct lpq_section {
  std::uint8_t id = 0;
  section_type type = section_type::u8;
  std::vector<std::uint8_t> u8;
  std::vector<float> f32;
  std::size_t count() const noexcept { return type == section_type::u8 ? u8.size() : f32.size(); }
};
struct lpq_tensor {
  std::string name;
  std::uint8_t scheme = 0;
  dtype source = dtype::f32;
  std::vector<std::size_t> shape;
  std::uint64_t block = 0;
  std::vector<lpq_section> sections;
  const lpq_section* find(std::uint8_t id) const noexcept;
};

std::vector<lpq_tensor> parse_lpq(const std::vector<std::uint8_t>& file, const std::string& where);
std::vector<lpq_tensor> read_lpq(const std::string& path);
bool is_lpq(const std::vector<std::uint8_t>& first_bytes) noexcept;

// Streams tensors into an atomic_output: begin(count), add() each, finish() (the CRC).
class lpq_writer {
 public:
  explicit lpq_writer(atomic_output& out) : out_(out) {}
  void begin(std::uint32_t count);
  void add(const lpq_tensor& t);
  void finish();

 private:
  void put(const std::vector<std::uint8_t>& bytes);
  atomic_output& out_;
  unsigned long crc_ = 0;
};

// Whole file into memory; a tool_error naming the path if it cannot be read.
std::vector<std::uint8_t> read_file(const std::string& path);

}  // namespace lowprec_cli
