// The lowprec tool's file parsers against valid and hostile input (CTest: cli_parsers).
//   1. the committed valid files parse to the right tensors (C and Fortran order, both
//      byte orders, three safetensors dtypes, an LPQ file written by Python);
//   2. writers round-trip through the parsers (npy, safetensors, LPQ);
//   3. every truncation of every valid file is a tool_error;
//   4. every single-byte corruption (several patterns at each offset) is either a
//      tool_error or a file whose tensors all decode within its bounds; for LPQ (which has
//      a checksum) every one is an error;
//   5. hand-made hostile headers: huge lengths, overflowing shapes and offsets, deep
//      nesting, duplicate keys, bad escapes.
// Nothing else may escape: any other exception, a crash, or (under the sanitizer build)
// an out-of-bounds read fails the test. Usage: lowprec_cli_parsers_test <testdata dir>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "common.hpp"
#include "tensor_io.hpp"

using namespace lowprec_cli;

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
  if (!ok) {
    ++failures;
    std::printf("FAILED: %s\n", what.c_str());
  }
}

// 0: parsed, 1: tool_error, 2: anything else (a failure).
template <class F>
int outcome(F&& f, std::string* message = nullptr) {
  try {
    f();
    return 0;
  } catch (const tool_error& e) {
    if (message != nullptr) *message = e.what();
    return 1;
  } catch (const std::exception& e) {
    if (message != nullptr) *message = e.what();
    return 2;
  }
}

// Parses a tensor file held in memory and decodes every tensor from the same buffer.
void parse_and_decode(const std::vector<std::uint8_t>& bytes) {
  const tensor_listing l = list_tensors(bytes, "mem", false);
  for (const tensor_entry& e : l.tensors) {
    if (e.offset > bytes.size() || e.nbytes > bytes.size() - e.offset) {
      throw std::logic_error("parser accepted a tensor beyond the buffer");
    }
    const tensor_values v = decode_tensor(bytes.data() + e.offset, e);
    if (v.f.size() + v.d.size() != e.count) throw std::logic_error("decoded count differs");
  }
}

std::vector<std::uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

std::vector<std::uint8_t> safetensors_with(const std::string& json, std::size_t data_bytes,
                                           std::uint64_t declared = 0) {
  std::vector<std::uint8_t> out(8);
  const std::uint64_t n = declared != 0 ? declared : json.size();
  for (int k = 0; k < 8; ++k) out[static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(n >> (8 * k));
  out.insert(out.end(), json.begin(), json.end());
  out.resize(out.size() + data_bytes, 0);
  return out;
}

std::vector<std::uint8_t> npy_with(const std::string& dict, std::size_t data_bytes, int major = 1) {
  std::vector<std::uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<std::uint8_t>(major), 0};
  const std::size_t len = dict.size();
  out.push_back(static_cast<std::uint8_t>(len));
  out.push_back(static_cast<std::uint8_t>(len >> 8));
  if (major > 1) {
    out.push_back(static_cast<std::uint8_t>(len >> 16));
    out.push_back(static_cast<std::uint8_t>(len >> 24));
  }
  out.insert(out.end(), dict.begin(), dict.end());
  out.resize(out.size() + data_bytes, 0);
  return out;
}

void valid_files(const std::string& dir) {
  {
    const tensor_listing l = list_tensors(dir + "/small_f32.npy", false);
    check(l.tensors.size() == 1 && l.tensors[0].shape == std::vector<std::size_t>{8, 16} &&
              l.tensors[0].type == dtype::f32,
          "small_f32.npy is one float32 [8, 16]");
  }
  {
    const tensor_listing l = list_tensors(dir + "/small_f16.npy", false);
    check(l.tensors.size() == 1 && l.tensors[0].type == dtype::f16 && l.tensors[0].count == 35,
          "small_f16.npy is one float16 [5, 7]");
  }
  {  // Fortran order: row-major element (i, j, k) is memory element i + 3 (j + 4 k).
    const std::vector<std::uint8_t> raw = read_file(dir + "/fortran_f32.npy");
    const tensor_listing l = list_tensors(raw, "fortran", false);
    check(l.tensors.size() == 1 && l.tensors[0].fortran_order, "fortran_f32.npy is Fortran order");
    tensor_entry flat = l.tensors[0];
    flat.fortran_order = false;
    const tensor_values rm = decode_tensor(raw.data() + flat.offset, l.tensors[0]);
    const tensor_values mem = decode_tensor(raw.data() + flat.offset, flat);
    bool same = rm.f.size() == 60;
    for (std::size_t i = 0; same && i < 3; ++i) {
      for (std::size_t j = 0; j < 4; ++j) {
        for (std::size_t k = 0; k < 5; ++k) {
          same = same && rm.f[(i * 4 + j) * 5 + k] == mem.f[i + 3 * (j + 4 * k)];
        }
      }
    }
    check(same, "Fortran-order data comes out in row-major order");
  }
  {  // Big-endian: the same values as the byte-swapped data read little-endian.
    std::vector<std::uint8_t> raw = read_file(dir + "/big_endian_f32.npy");
    const tensor_listing l = list_tensors(raw, "big", false);
    check(l.tensors.size() == 1 && l.tensors[0].big_endian, "big_endian_f32.npy is big-endian");
    const tensor_values be = decode_tensor(raw.data() + l.tensors[0].offset, l.tensors[0]);
    tensor_entry le = l.tensors[0];
    le.big_endian = false;
    for (std::size_t i = 0; i < le.count; ++i) {
      std::uint8_t* p = raw.data() + le.offset + 4 * i;
      std::swap(p[0], p[3]);
      std::swap(p[1], p[2]);
    }
    const tensor_values little = decode_tensor(raw.data() + le.offset, le);
    check(be.f == little.f && be.f.size() == 6 && std::fabs(be.f[0]) < 0.1f,
          "big-endian float32 decodes like its byte-swapped copy");
  }
  {
    const tensor_listing l = list_tensors(dir + "/small.safetensors", false);
    check(l.tensors.size() == 3 && l.tensors[0].name == "w_bf16" && l.tensors[0].type == dtype::bf16 &&
              l.tensors[1].type == dtype::f16 && l.tensors[2].type == dtype::f32 &&
              l.tensors[0].shape == std::vector<std::size_t>{2, 3, 16},
          "small.safetensors lists w_bf16, w_f16, w_f32");
    const tensor_values v = read_tensor(dir + "/small.safetensors", l.tensors[0]);
    bool plausible = v.f.size() == 96;
    for (const float x : v.f) plausible = plausible && std::fabs(x) < 0.07f;
    check(plausible, "bf16 tensor decodes to plausible values");
  }
  {
    std::string msg;
    check(outcome([&] { list_tensors(dir + "/with_int64.safetensors", false); }, &msg) == 1 &&
              msg.find("unsupported dtype 'I64'") != std::string::npos,
          "an I64 tensor is an error by default");
    const tensor_listing l = list_tensors(dir + "/with_int64.safetensors", true);
    check(l.tensors.size() == 1 && l.skipped.size() == 1, "--skip-unsupported skips it");
  }
  {
    const std::vector<lpq_tensor> t = read_lpq(dir + "/valid.lpq");
    check(t.size() == 1 && t[0].name == "x" && t[0].block == 4 && t[0].find(1) != nullptr &&
              t[0].find(1)->u8.size() == 8 && t[0].find(2) != nullptr &&
              t[0].find(2)->f32.size() == 2,
          "valid.lpq (written by Python) parses");
    check(outcome([&] { read_lpq(dir + "/corrupted.lpq"); }) == 1, "corrupted.lpq is an error");
  }
}

void writers_round_trip() {
  for (const std::vector<std::size_t>& shape :
       {std::vector<std::size_t>{}, {5}, {2, 3}, {1, 1, 4}, {0, 3}}) {
    std::vector<std::uint8_t> file = npy_header_f32(shape);
    check(file.size() % 64 == 0, "npy header is 64-byte aligned");
    std::size_t n = 1;
    for (const std::size_t d : shape) n *= d;
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = 0.5f * static_cast<float>(i) - 1.0f;
    append_f32_le(file, x.data(), n);
    const tensor_listing l = list_tensors(file, "npy", false);
    check(l.tensors.size() == 1 && l.tensors[0].shape == shape &&
              decode_tensor(file.data() + l.tensors[0].offset, l.tensors[0]).f == x,
          "npy writer round trip");
  }
  const std::vector<named_shape> ts = {{"a", {2, 2}}, {"we\"ird\\name\n", {3}}, {"", {}}};
  std::vector<std::uint8_t> file = safetensors_header_f32(ts);
  check((file.size() - 8) % 8 == 0, "safetensors data is 8-byte aligned");
  const float data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  append_f32_le(file, data, 8);
  const tensor_listing l = list_tensors(file, "st", false);
  check(l.tensors.size() == 3 && l.tensors[1].name == ts[1].name && l.tensors[2].name.empty() &&
            decode_tensor(file.data() + l.tensors[1].offset, l.tensors[1]).f ==
                std::vector<float>({5, 6, 7}),
        "safetensors writer round trip (escaped names)");

  const std::string path = "parsers_test_roundtrip.lpq";
  {
    atomic_output out(path);
    lpq_writer w(out);
    w.begin(2);
    lpq_tensor t;
    t.name = "first";
    t.scheme = 1;
    t.source = dtype::bf16;
    t.shape = {3, 5};
    t.block = 32;
    t.sections.push_back({1, section_type::u8, {1, 2, 3, 4, 5, 6, 7, 8}, {}});
    t.sections.push_back({2, section_type::f32, {}, {0.25f, -1.5f}});
    w.add(t);
    t.name = "second";
    t.sections.clear();
    w.add(t);
    w.finish();
    out.commit();
  }
  const std::vector<lpq_tensor> back = read_lpq(path);
  check(back.size() == 2 && back[0].name == "first" && back[0].source == dtype::bf16 &&
            back[0].shape == std::vector<std::size_t>({3, 5}) && back[0].block == 32 &&
            back[0].find(1)->u8.size() == 8 && back[0].find(2)->f32[1] == -1.5f &&
            back[1].sections.empty(),
        "LPQ writer round trip");
  std::remove(path.c_str());
}

// Every truncation, and corruptions at every offset.
void hostile_mutations(const std::string& dir) {
  const char* tensor_files[] = {"small_f32.npy", "small_f16.npy", "fortran_f32.npy",
                                "big_endian_f32.npy", "small.safetensors",
                                "with_int64.safetensors"};
  const std::uint8_t patterns[] = {0x01, 0x80, 0xFF, 0x20};
  for (const char* name : tensor_files) {
    const std::vector<std::uint8_t> good = read_file(dir + "/" + name);
    int bad_truncation = 0, other = 0, accepted = 0, rejected = 0;
    for (std::size_t cut = 0; cut < good.size(); ++cut) {
      const std::vector<std::uint8_t> t(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
      const int r = outcome([&] { parse_and_decode(t); });
      bad_truncation += r == 0 ? 1 : 0;
      other += r == 2 ? 1 : 0;
    }
    for (std::size_t i = 0; i < good.size(); ++i) {
      for (const std::uint8_t p : patterns) {
        std::vector<std::uint8_t> c = good;
        c[i] = static_cast<std::uint8_t>(p == 0x20 ? 0x20 : c[i] ^ p);
        std::string msg;
        const int r = outcome([&] { parse_and_decode(c); }, &msg);
        if (r == 2) std::printf("  %s byte %zu ^ 0x%02X: %s\n", name, i, p, msg.c_str());
        other += r == 2 ? 1 : 0;
        accepted += r == 0 ? 1 : 0;
        rejected += r == 1 ? 1 : 0;
      }
    }
    check(bad_truncation == 0 && other == 0,
          std::string(name) + ": truncations accepted " + std::to_string(bad_truncation) +
              ", non-tool errors " + std::to_string(other));
    std::printf("%-24s %5zu truncations rejected; corruptions: %d rejected, %d still valid\n",
                name, good.size(), rejected, accepted);
  }
  const std::vector<std::uint8_t> good = read_file(dir + "/valid.lpq");
  int accepted = 0, other = 0;
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    const std::vector<std::uint8_t> t(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
    const int r = outcome([&] { parse_lpq(t, "lpq"); });
    accepted += r == 0 ? 1 : 0;
    other += r == 2 ? 1 : 0;
  }
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (const std::uint8_t p : patterns) {
      std::vector<std::uint8_t> c = good;
      c[i] = static_cast<std::uint8_t>(c[i] ^ p);
      const int r = outcome([&] { parse_lpq(c, "lpq"); });
      accepted += r == 0 ? 1 : 0;
      other += r == 2 ? 1 : 0;
    }
  }
  check(accepted == 0 && other == 0, "LPQ: every truncation and corruption is a tool_error");
}

void hostile_headers() {
  struct hostile {
    const char* what;
    std::vector<std::uint8_t> bytes;
  };
  const std::string deep(100000, '[');
  std::vector<hostile> cases = {
      {"empty file", {}},
      {"npy magic only", bytes_of("\x93NUMPY")},
      {"npy version 9", npy_with("{}", 0, 9)},
      {"npy header longer than the file", [] {
         std::vector<std::uint8_t> b = npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8);
         b[8] = 0xFF;
         b[9] = 0xFF;
         return b;
       }()},
      {"npy v2 header length 4 GB", [] {
         std::vector<std::uint8_t> b = npy_with("{}", 0, 2);
         b[8] = b[9] = b[10] = b[11] = 0xFF;
         return b;
       }()},
      {"npy shape overflows size_t", npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }", 0)},
      {"npy dimension beyond uint64", npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }", 0)},
      {"npy bytes overflow", npy_with("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,), }", 0)},
      {"npy missing key", npy_with("{'descr': '<f4', 'shape': (2,), }", 8)},
      {"npy repeated key", npy_with("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8)},
      {"npy extra key", npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", 8)},
      {"npy object dtype", npy_with("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", 16)},
      {"npy structured dtype", npy_with("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8)},
      {"npy negative dimension", npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", 8)},
      {"npy unterminated string", npy_with("{'descr: <f4", 8)},
      {"npy 64 dimensions", npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (" + [] {
                                       std::string s;
                                       for (int i = 0; i < 64; ++i) s += "1,";
                                       return s;
                                     }() + "), }", 4)},
      {"npy data too long", npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 12)},
      {"safetensors length 2^64-1", safetensors_with("{}", 0, ~std::uint64_t{0})},
      {"safetensors length beyond file", safetensors_with("{}", 0, 1000)},
      {"safetensors deep nesting", safetensors_with("{\"a\":" + deep, 0)},
      {"safetensors not an object", safetensors_with("[1, 2]", 0)},
      {"safetensors offsets reversed", safetensors_with("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4)},
      {"safetensors offsets past the data", safetensors_with("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,18446744073709551615]}}", 4)},
      {"safetensors offset 20 digits", safetensors_with("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999]}}", 4)},
      {"safetensors negative offset", safetensors_with("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4)},
      {"safetensors fractional shape", safetensors_with("{\"t\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4)},
      {"safetensors shape overflow", safetensors_with("{\"t\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,8],\"data_offsets\":[0,4]}}", 4)},
      {"safetensors size mismatch", safetensors_with("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4)},
      {"safetensors duplicate name", safetensors_with("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4)},
      {"safetensors missing field", safetensors_with("{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4)},
      {"safetensors unknown dtype", safetensors_with("{\"t\":{\"dtype\":\"Q3\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4)},
      {"safetensors bad escape", safetensors_with("{\"t\\q\":{}}", 0)},
      {"safetensors lone surrogate", safetensors_with("{\"\\udc00\":{}}", 0)},
      {"safetensors truncated escape", safetensors_with("{\"\\u12", 0)},
      {"safetensors control character", safetensors_with("{\"a\nb\":{}}", 0)},
      {"safetensors trailing text", safetensors_with("{} x", 0)},
      {"safetensors metadata not an object", safetensors_with("{\"__metadata__\":3}", 0)},
      {"unknown format", bytes_of("GGUF\x03\x00\x00\x00\x00\x00\x00\x00")},
      {"lpq given as a tensor file", bytes_of("LOWPRECQ\x01\x00\x00\x00\x00\x00\x00\x00")},
  };
  for (const hostile& h : cases) {
    std::string msg;
    const int r = outcome([&] { parse_and_decode(h.bytes); }, &msg);
    check(r == 1 && !msg.empty() && msg.find('\n') == std::string::npos,
          std::string(h.what) + ": expected one tool_error line, got " +
              (r == 0 ? "success" : msg));
  }
  // Valid corner cases still parse.
  check(outcome([&] { parse_and_decode(safetensors_with("{\"__metadata__\":{\"k\":\"v\"},\"e\":{\"dtype\":\"F16\",\"shape\":[0],\"data_offsets\":[0,0]}}", 0)); }) == 0,
        "empty safetensors tensor with metadata parses");
  check(outcome([&] { parse_and_decode(safetensors_with("{\"\\u00e9\\ud83d\\ude00\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[0,2]}}", 2)); }) == 0,
        "unicode escapes in names parse");
  check(outcome([&] { parse_and_decode(npy_with("{'descr': '<f2', 'fortran_order': True, 'shape': (), }", 2, 3)); }) == 0,
        "npy v3 scalar parses");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <testdata dir>\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  try {
    valid_files(dir);
    writers_round_trip();
    hostile_mutations(dir);
    hostile_headers();
  } catch (const std::exception& e) {
    std::printf("FAILED: unexpected exception: %s\n", e.what());
    return 1;
  }
  if (failures != 0) {
    std::printf("%d check(s) failed\n", failures);
    return 1;
  }
  std::printf("all parser checks passed\n");
  return 0;
}
