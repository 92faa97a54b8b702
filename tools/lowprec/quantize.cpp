// `lowprec quantize` and `lowprec dequantize`: every tensor of a .npy or .safetensors file
// through one of lowprec's quantization schemes, the error it costs, and the LPQ container
// (tensor_io.hpp) that dequantize reads back.
//
// This is the tool's only translation unit that includes lowprec's SIMD kernels (through
// quant/quantized_tensor.hpp): each such unit compiles every kernel once per Highway
// target, so keeping them in one place keeps the build short.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "common.hpp"
#include "lowprec/quant/codebook_blocks.hpp"
#include "lowprec/quant/double_quant.hpp"
#include "lowprec/quant/quantized_tensor.hpp"
#include "tensor_io.hpp"

namespace lowprec_cli {
namespace {

namespace lq = lowprec::quant;

// ---- schemes ------------------------------------------------------------------------------------
// A scheme's number is what LPQ stores (docs/cli.md); never renumber.
struct scheme_def {
  const char* name;
  std::uint8_t id;
  lq::code_format format;  // unused for nf4
  bool affine, nf4;
  const char* what;
};
constexpr scheme_def kSchemes[] = {
    {"int8", 0, lq::code_format::int8, false, false, "absmax, codes -127..127"},
    {"int4", 1, lq::code_format::int4, false, false, "absmax, codes -7..7, two per byte"},
    {"nf4", 6, lq::code_format::int4, false, true, "NormalFloat4 codebook x absmax, two per byte"},
    {"fp8_e4m3fn", 2, lq::code_format::fp8_e4m3fn, false, false, "absmax onto +-448"},
    {"fp8_e5m2", 3, lq::code_format::fp8_e5m2, false, false, "absmax onto +-57344"},
    {"uint8", 4, lq::code_format::uint8, true, false, "affine (zero point), codes 0..255"},
    {"uint4", 5, lq::code_format::uint4, true, false, "affine (zero point), codes 0..15"},
};
// Section ids of LPQ (docs/cli.md).
enum : std::uint8_t {
  sec_codes = 1,        // u8: the codes (4-bit formats two per byte, element 2k low)
  sec_scales = 2,       // f32: one per block (absmax / qmax; nf4: the block absmax)
  sec_zero_points = 3,  // u8: affine schemes, one per block
  sec_dq_codes = 4,     // u8: nf4 --double-quant: each block scale's 8-bit code
  sec_dq_absmax = 5,    // f32: one per 256 block scales
  sec_dq_offset = 6,    // f32[1]: the mean the scales were centred on
};

std::string scheme_names() {
  std::string s;
  for (const scheme_def& d : kSchemes) s += (s.empty() ? "" : ", ") + std::string(d.name);
  return s;
}

const scheme_def& find_scheme(const std::string& name) {
  for (const scheme_def& d : kSchemes) {
    if (name == d.name) return d;
  }
  throw tool_error("--scheme: unknown scheme '" + name + "' (expected " + scheme_names() + ")");
}

const scheme_def& scheme_by_id(std::uint8_t id, const std::string& where) {
  for (const scheme_def& d : kSchemes) {
    if (id == d.id) return d;
  }
  throw tool_error(where + ": unknown scheme number " + std::to_string(id));
}

lq::scheme make_scheme(const scheme_def& d, std::uint64_t block) {
  const lq::grouping g = block == 0 ? lq::per_tensor() : lq::per_block(static_cast<std::size_t>(block));
  return d.affine ? lq::affine(d.format, g) : lq::absmax(d.format, g);
}

// nf4 blocks are bitsandbytes' sizes: powers of two in [32, 4096].
void check_nf4_block(std::uint64_t block, const std::string& where) {
  if (block < 32 || block > 4096 || (block & (block - 1)) != 0) {
    throw tool_error(where + "nf4 needs a block that is a power of two in 32..4096, got " +
                     std::to_string(block));
  }
}

// ---- one tensor ---------------------------------------------------------------------------------

// A tensor in a scheme: what LPQ stores, its size, and the values it decodes to.
struct encoded {
  std::vector<lpq_section> sections;
  std::size_t bytes = 0;
  std::vector<float> y;
};

encoded encode(const float* x, std::size_t n, const scheme_def& d, std::uint64_t block, bool dq) {
  encoded e;
  if (!d.nf4) {
    lq::quantized_tensor q = lq::quantize(x, {n}, make_scheme(d, block));
    e.y = q.dequantize();
    e.bytes = q.bytes();
    e.sections.push_back({sec_codes, section_type::u8, q.codes(), {}});
    e.sections.push_back({sec_scales, section_type::f32, {}, q.scales()});
    if (d.affine) e.sections.push_back({sec_zero_points, section_type::u8, q.zero_points(), {}});
    return e;
  }
  const auto b = static_cast<std::size_t>(block);
  std::vector<std::uint8_t> codes(lowprec::packed_size(n));
  std::vector<float> absmax(lq::block_count(n, b));
  lq::quantize_nf4(x, n, codes.data(), absmax.data(), b);
  std::vector<float> scales = absmax;
  e.bytes = codes.size();
  e.sections.push_back({sec_codes, section_type::u8, std::move(codes), {}});
  if (dq) {
    const lq::double_quant_scales s = lq::double_quantize(absmax);
    scales = s.dequantize();
    e.bytes += s.bytes();
    e.sections.push_back({sec_dq_codes, section_type::u8, s.codes, {}});
    e.sections.push_back({sec_dq_absmax, section_type::f32, {}, s.absmax2});
    e.sections.push_back({sec_dq_offset, section_type::f32, {}, {s.offset}});
  } else {
    e.bytes += 4 * absmax.size();
    e.sections.push_back({sec_scales, section_type::f32, {}, std::move(absmax)});
  }
  e.y.resize(n);
  lq::dequantize_nf4(e.sections[0].u8.data(), scales.data(), n, e.y.data(), b);
  return e;
}

struct result {
  double bits = 0;           // per parameter, scales included
  lq::error_metrics error;
  double signal = 0, noise = 0;  // sums of squares, for totals
  std::size_t count = 0;
  std::size_t bytes = 0;
};

// Quantizes a tensor (float64 is rounded to float first, as every scheme computes in
// float) and measures the error against the original values.
result quantize_tensor(const tensor_values& v, const scheme_def& d, std::uint64_t block, bool dq,
                       std::vector<lpq_section>* keep) {
  const bool wide = !v.d.empty();
  std::vector<float> narrowed;
  if (wide) narrowed.assign(v.d.begin(), v.d.end());
  const float* x = wide ? narrowed.data() : v.f.data();
  const std::size_t n = wide ? v.d.size() : v.f.size();
  encoded e = encode(x, n, d, block, dq);
  result r;
  r.error = wide ? lq::measure_error(v.d.data(), e.y.data(), n) : lq::measure_error(x, e.y.data(), n);
  r.bytes = e.bytes;
  r.bits = n == 0 ? 0.0 : 8.0 * static_cast<double>(e.bytes) / static_cast<double>(n);
  r.count = r.error.count;
  for (std::size_t i = 0; i < n; ++i) {
    const double xi = wide ? v.d[i] : static_cast<double>(x[i]);
    if (!std::isfinite(xi)) continue;
    const double err = static_cast<double>(e.y[i]) - xi;
    r.signal += xi * xi;
    r.noise += err * err;
  }
  if (keep != nullptr) *keep = std::move(e.sections);
  return r;
}

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string sqnr_text(double signal, double noise) {
  if (noise == 0.0) return "inf";
  if (signal == 0.0) return "-inf";
  return fmt("%.2f", 10.0 * std::log10(signal / noise));
}

struct totals {
  double signal = 0, noise = 0, max_abs = 0;
  std::size_t count = 0, elements = 0, bytes = 0;
  void add(const result& r, std::size_t elements_in) {
    signal += r.signal;
    noise += r.noise;
    if (!(r.error.max_abs <= max_abs)) max_abs = r.error.max_abs;
    count += r.count;
    elements += elements_in;
    bytes += r.bytes;
  }
  double bits() const { return elements == 0 ? 0.0 : 8.0 * static_cast<double>(bytes) / static_cast<double>(elements); }
  double rmse() const { return count == 0 ? 0.0 : std::sqrt(noise / static_cast<double>(count)); }
};

// ---- quantize -------------------------------------------------------------------------------------

struct quantize_options {
  std::string file, scheme = "int8", block = "64", out;
  bool double_quant = false, compare = false, skip_unsupported = false, progress = false,
       quiet = false;
};

void check_listing(const tensor_listing& l, const std::string& file) {
  for (const std::string& s : l.skipped) std::fprintf(stderr, "lowprec: skipping %s\n", s.c_str());
  if (l.tensors.empty()) throw tool_error(file + ": no float tensors to quantize");
}

// --compare: every scheme (nf4 also double-quantized) over all tensors together.
void run_compare(const quantize_options& o, const tensor_listing& l, std::uint64_t block) {
  struct entry {
    const scheme_def* d;
    bool dq;
    std::uint64_t block;
    totals t;
  };
  std::vector<entry> rows;
  for (const scheme_def& d : kSchemes) {
    if (!d.nf4) {
      rows.push_back({&d, false, block, {}});
      continue;
    }
    // nf4 takes bitsandbytes' block sizes only; with another --block it runs at 64.
    const bool ok = block >= 32 && block <= 4096 && (block & (block - 1)) == 0;
    rows.push_back({&d, false, ok ? block : 64, {}});
    rows.push_back({&d, true, ok ? block : 64, {}});
  }
  progress bar(l.tensors.size(), o.progress && !o.quiet);
  for (const tensor_entry& e : l.tensors) {
    bar.step("comparing schemes on " + e.name);
    const tensor_values v = read_tensor(o.file, e);
    for (entry& r : rows) r.t.add(quantize_tensor(v, *r.d, r.block, r.dq, nullptr), e.count);
  }
  bar.done();
  std::size_t elements = 0;
  for (const tensor_entry& e : l.tensors) elements += e.count;
  std::printf("%s: %zu tensor%s, %zu elements; %s\n\n", o.file.c_str(), l.tensors.size(),
              l.tensors.size() == 1 ? "" : "s", elements,
              block == 0 ? "one scale per tensor" : ("blocks of " + std::to_string(block)).c_str());
  std::printf("  %-16s %-46s %10s %12s %12s %9s\n", "scheme", "", "bits/param", "max abs", "RMSE",
              "SQNR dB");
  for (const entry& r : rows) {
    std::string name = r.d->name;
    if (r.dq) name += " +dq";
    if (r.d->nf4 && r.block != block) name += " (" + std::to_string(r.block) + ")";
    std::string what = r.d->what;
    if (r.dq) what = "nf4, block scales double-quantized";
    std::printf("  %-16s %-46s %10.3f %12.4e %12.4e %9s\n", name.c_str(), what.c_str(), r.t.bits(),
                r.t.max_abs, r.t.rmse(), sqnr_text(r.t.signal, r.t.noise).c_str());
  }
}

void run_quantize(const quantize_options& o) {
  // Everything that can be checked before reading data is checked first.
  const std::uint64_t block = static_cast<std::uint64_t>(parse_integer(o.block, "--block", 0, 1ll << 32));
  if (o.compare && !o.out.empty()) throw tool_error("--compare prints a table; it cannot be combined with --out");
  const scheme_def* d = o.compare ? nullptr : &find_scheme(o.scheme);
  if (d != nullptr && d->nf4) check_nf4_block(block, "--block: ");
  if (o.double_quant && (d == nullptr || !d->nf4)) {
    throw tool_error(o.compare ? "--double-quant: --compare already shows nf4 with and without it"
                               : "--double-quant applies to nf4 block scales; scheme '" + o.scheme +
                                     "' keeps plain fp32 scales");
  }
  const tensor_listing l = list_tensors(o.file, o.skip_unsupported);
  check_listing(l, o.file);
  if (o.compare) return run_compare(o, l, block);

  std::unique_ptr<atomic_output> out;
  std::unique_ptr<lpq_writer> writer;
  if (!o.out.empty()) {
    out = std::make_unique<atomic_output>(o.out);
    writer = std::make_unique<lpq_writer>(*out);
    writer->begin(static_cast<std::uint32_t>(l.tensors.size()));
  }
  std::printf("%s: scheme %s (%s%s), %s\n\n", o.file.c_str(), d->name, d->what,
              o.double_quant ? "; scales double-quantized" : "",
              block == 0 ? "one scale per tensor" : ("blocks of " + std::to_string(block)).c_str());
  std::printf("  %-32s %-9s %-16s %10s %12s %12s %9s\n", "tensor", "dtype", "shape", "bits/param",
              "max abs", "RMSE", "SQNR dB");
  totals all;
  progress bar(l.tensors.size(), o.progress && !o.quiet);
  for (const tensor_entry& e : l.tensors) {
    bar.step("quantizing " + e.name);
    const tensor_values v = read_tensor(o.file, e);
    lpq_tensor t;
    const result r = quantize_tensor(v, *d, block, o.double_quant, writer ? &t.sections : nullptr);
    all.add(r, e.count);
    if (writer) {
      t.name = e.name;
      t.scheme = d->id;
      t.source = e.type;
      t.shape = e.shape;
      t.block = block;
      writer->add(t);
    }
    bar.done();
    std::printf("  %-32s %-9s %-16s %10.3f %12.4e %12.4e %9s\n", e.name.c_str(), to_string(e.type),
                shape_text(e.shape).c_str(), r.bits, r.error.max_abs, r.error.rmse,
                sqnr_text(r.signal, r.noise).c_str());
  }
  bar.done();
  if (l.tensors.size() > 1) {
    std::printf("  %-32s %-9s %-16s %10.3f %12.4e %12.4e %9s\n", "total", "", "", all.bits(),
                all.max_abs, all.rmse(), sqnr_text(all.signal, all.noise).c_str());
  }
  if (writer) {
    writer->finish();
    out->commit();
    std::printf("\nwrote %s (%s; 'lowprec dequantize %s' reads it back)\n", o.out.c_str(),
                human_bytes(static_cast<double>(out->written())).c_str(), o.out.c_str());
  }
}

// ---- dequantize -----------------------------------------------------------------------------------

struct dequantize_options {
  std::string file, out;
  bool progress = false;
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// An LPQ record, checked against its scheme: every section present with the right type and
// length for the shape and block (quantized_tensor's constructor checks the non-nf4 ones).
struct decoded {
  std::size_t bytes = 0, count = 0;
  std::function<std::vector<float>()> values;
};

const lpq_section& need(const lpq_tensor& t, std::uint8_t id, section_type type,
                        std::size_t count, const std::string& where) {
  const lpq_section* s = t.find(id);
  if (s == nullptr || s->type != type || (count != SIZE_MAX && s->count() != count)) {
    throw tool_error(where + ": section " + std::to_string(id) + " is missing, mistyped or has " +
                     (s == nullptr ? std::string("no") : std::to_string(s->count())) +
                     " entries" + (count != SIZE_MAX ? " (needs " + std::to_string(count) + ")" : ""));
  }
  return *s;
}

decoded rebuild(const lpq_tensor& t, const std::string& file) {
  const std::string where = file + ": tensor '" + t.name + "'";
  const scheme_def& d = scheme_by_id(t.scheme, where);
  std::size_t n = 1;
  for (const std::size_t dim : t.shape) n *= dim;  // checked for overflow by the parser
  decoded r;
  r.count = n;
  if (d.nf4) {
    check_nf4_block(t.block, where + ": ");
    const auto block = static_cast<std::size_t>(t.block);
    const std::size_t blocks = lq::block_count(n, block);
    const lpq_section& codes = need(t, sec_codes, section_type::u8, lowprec::packed_size(n), where);
    std::vector<float> scales;
    if (t.find(sec_dq_codes) != nullptr) {
      lq::double_quant_scales s;
      s.codes = need(t, sec_dq_codes, section_type::u8, blocks, where).u8;
      s.absmax2 = need(t, sec_dq_absmax, section_type::f32, lq::block_count(blocks, 256), where).f32;
      s.offset = need(t, sec_dq_offset, section_type::f32, 1, where).f32[0];
      scales = s.dequantize();
      r.bytes = codes.u8.size() + s.bytes();
    } else {
      scales = need(t, sec_scales, section_type::f32, blocks, where).f32;
      r.bytes = codes.u8.size() + 4 * scales.size();
    }
    r.values = [&codes, scales, n, block]() {
      std::vector<float> y(n);
      lq::dequantize_nf4(codes.u8.data(), scales.data(), n, y.data(), block);
      return y;
    };
    return r;
  }
  const lpq_section& codes = need(t, sec_codes, section_type::u8, SIZE_MAX, where);
  const lpq_section& scales = need(t, sec_scales, section_type::f32, SIZE_MAX, where);
  std::vector<std::uint8_t> zps;
  if (d.affine) zps = need(t, sec_zero_points, section_type::u8, SIZE_MAX, where).u8;
  try {
    auto q = std::make_shared<lq::quantized_tensor>(make_scheme(d, t.block), std::vector<std::size_t>{n},
                                                    codes.u8, scales.f32, std::move(zps));
    r.bytes = q->bytes();
    r.values = [q]() { return q->dequantize(); };
  } catch (const std::invalid_argument& e) {
    throw tool_error(where + ": " + e.what());
  }
  return r;
}

void run_dequantize(const dequantize_options& o) {
  const bool npy = ends_with(o.out, ".npy");
  if (!o.out.empty() && !npy && !ends_with(o.out, ".safetensors")) {
    throw tool_error("--out: '" + o.out + "' must end in .npy or .safetensors");
  }
  const std::vector<lpq_tensor> ts = read_lpq(o.file);
  std::vector<decoded> qs;
  for (const lpq_tensor& t : ts) qs.push_back(rebuild(t, o.file));  // all checked first
  if (npy && ts.size() != 1) {
    throw tool_error("--out: a .npy file holds one array and " + o.file + " has " +
                     std::to_string(ts.size()) + " tensors; write .safetensors instead");
  }
  std::printf("%s: %zu tensor%s\n\n", o.file.c_str(), ts.size(), ts.size() == 1 ? "" : "s");
  std::printf("  %-32s %-12s %-9s %-16s %8s %10s\n", "tensor", "scheme", "was", "shape", "block",
              "bits/param");
  for (std::size_t i = 0; i < ts.size(); ++i) {
    const double bits = qs[i].count == 0 ? 0.0 : 8.0 * static_cast<double>(qs[i].bytes) / static_cast<double>(qs[i].count);
    std::printf("  %-32s %-12s %-9s %-16s %8llu %10.3f\n", ts[i].name.c_str(),
                scheme_by_id(ts[i].scheme, o.file).name, to_string(ts[i].source),
                shape_text(ts[i].shape).c_str(), static_cast<unsigned long long>(ts[i].block), bits);
  }
  if (o.out.empty()) return;
  atomic_output out(o.out);
  if (npy) {
    out.write(npy_header_f32(ts[0].shape));
  } else {
    std::vector<named_shape> shapes;
    for (const lpq_tensor& t : ts) shapes.push_back({t.name, t.shape});
    out.write(safetensors_header_f32(shapes));
  }
  progress bar(ts.size(), o.progress);
  for (std::size_t i = 0; i < ts.size(); ++i) {
    bar.step("dequantizing " + ts[i].name);
    const std::vector<float> y = qs[i].values();
    std::vector<std::uint8_t> bytes;
    append_f32_le(bytes, y.data(), y.size());
    out.write(bytes);
  }
  bar.done();
  out.commit();
  std::printf("\nwrote %s (float32, %s)\n", o.out.c_str(), human_bytes(static_cast<double>(out.written())).c_str());
}

}  // namespace

void add_quantize_commands(CLI::App& app) {
  auto o = std::make_shared<quantize_options>();
  CLI::App* q = app.add_subcommand(
      "quantize", "Quantize every tensor of a .npy or .safetensors file; print the error; --out saves");
  q->add_option("file", o->file, ".npy (float32/float16/float64) or .safetensors (F32/F16/BF16/F64)")
      ->required();
  q->add_option("--scheme", o->scheme, "int8 (default), int4, nf4, fp8_e4m3fn, fp8_e5m2, uint8, uint4");
  q->add_option("--block", o->block,
                "Elements per scale along the flattened tensor (default 64; 0: one scale per tensor)");
  q->add_flag("--double-quant", o->double_quant, "Quantize the block scales too (nf4)");
  q->add_option("--out", o->out, "Write the quantized tensors (LPQ format, docs/cli.md)");
  q->add_flag("--compare", o->compare, "Print every scheme side by side instead");
  q->add_flag("--skip-unsupported", o->skip_unsupported,
              "Skip safetensors tensors that are not F32/F16/BF16/F64 instead of failing");
  q->add_flag("--progress", o->progress, "Show progress per tensor on stderr (default on a terminal)");
  q->add_flag("--quiet", o->quiet, "No progress");
  q->callback([o]() {
    quantize_options run = *o;
    if (!run.quiet && stderr_is_terminal()) run.progress = true;
    run_quantize(run);
  });

  auto d = std::make_shared<dequantize_options>();
  CLI::App* dq = app.add_subcommand(
      "dequantize", "Read a file written by 'quantize --out'; list it; --out writes float32");
  dq->add_option("file", d->file, "A lowprec quantized file (LPQ)")->required();
  dq->add_option("--out", d->out, "Write float32 tensors: OUT.npy (one tensor) or OUT.safetensors");
  dq->add_flag("--progress", d->progress, "Show progress per tensor on stderr");
  dq->callback([d]() {
    dequantize_options run = *d;
    if (stderr_is_terminal()) run.progress = true;
    run_dequantize(run);
  });
}

}  // namespace lowprec_cli
