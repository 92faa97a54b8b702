// The one ranking rule of lowprec::prune, and the O(n) selection that applies it.
//
// Ranking. Every candidate gets a key: an unsigned integer that orders like the value it
// ranks (a magnitude |w|, an Ln norm, an importance score's magnitude, a random number).
// Candidates are ordered by (key, logical index); pruning removes the lowest. So:
//   - ties are broken deterministically: among equal keys the LOWER index is pruned first
//     (and, in an N:M group, the higher index is kept first);
//   - NaN ranks above +inf: a NaN weight (or a channel whose norm is NaN) is pruned only
//     when the count asks for more than every non-NaN candidate, i.e. pruned last;
//   - -0 and +0 are equal (magnitude 0), and a subnormal ranks above 0.
//
// Magnitude keys are the bits of |w| in w's own format (float: bits & 0x7FFFFFFF, double:
// 64-bit, fp16/bf16: the bits below the sign): for non-negative IEEE values the bit patterns
// order like the values, NaNs above +inf. Keys of mixed formats (global pruning) are
// taken after widening to float, or to double if any tensor is double; widening is exact.
//
// Selection of the k lowest of n keys (MSD radix select, no sort):
//   pass 1   histogram of the top 16 key bits over all candidates          read n keys
//   pass 2   bins below the boundary bin are pruned, bins above are kept;   read n keys,
//            the boundary bin's c elements are then ranked:                 write n bytes
//   refine   c <= n/32: copied out as (key, index) candidates (32-bit index where n < 2^32),
//            16 more bits at a time on the candidates only, then the first in index order
//            among equal keys (all that remain are equal)
//   in place c > n/32 (heavy ties: all weights equal, the zeros of a tensor pruned before):
//            marked undecided in the mask while pass 2 tracks their lowest and highest key;
//            while those differ, two more passes over the keys per 16-bit digit (at most
//            one round for 32-bit keys); then one pass over the mask bytes prunes the
//            first `need` undecided in index order, the rest kept. No copy of the bin
// Cost O(n) plus O(c) for c boundary candidates; c is about n/400 for normal weights at 50%,
// and tied data runs at the speed of normal data with no memory beyond the mask.
// Small inputs (n <= 2048) rank (key, index) pairs with std::nth_element instead, and a
// contiguous tensor without prior mask runs the same passes fused (select_prune_indexed);
// all paths give the same result by construction and are tested against each other.
// Elements excluded by a prior mask carry the sentinel key (all ones): they fall in a bin
// of their own above every real key and are never candidates.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "lowprec/detail/bits.hpp"
#include "lowprec/detail/random.hpp"
#include "lowprec/prune/view.hpp"

namespace lowprec::prune::detail {

// ---- Keys --------------------------------------------------------------------------------

template <class T>
struct native_key;
template <>
struct native_key<float> {
  using type = std::uint32_t;
  static type of(float x) noexcept { return lowprec::detail::bit_cast<std::uint32_t>(x) & 0x7FFFFFFFu; }
};
template <>
struct native_key<double> {
  using type = std::uint64_t;
  static type of(double x) noexcept {
    return lowprec::detail::bit_cast<std::uint64_t>(x) & 0x7FFFFFFFFFFFFFFFull;
  }
};
template <class F>
struct native_key<small_float<F>> {
  using type = std::uint16_t;
  static type of(small_float<F> x) noexcept {
    return static_cast<type>(x.bits() & F::magnitude_mask);
  }
};

// The magnitude key of x in key type K: native when K is x's own key type, else after
// exact widening to float (32-bit keys) or double (64-bit keys).
template <class K, class T>
K magnitude_key(T x) noexcept {
  if constexpr (std::is_same_v<K, typename native_key<T>::type>) {
    return native_key<T>::of(x);
  } else if constexpr (std::is_same_v<K, std::uint32_t>) {
    static_assert(!std::is_same_v<T, double>, "double needs 64-bit keys");
    return native_key<float>::of(static_cast<float>(x));
  } else {
    static_assert(std::is_same_v<K, std::uint64_t>, "keys are 16, 32 or 64 bits");
    return native_key<double>::of(static_cast<double>(x));
  }
}

// Random keys (random pruning): 31 bits of the counter-based generator of
// detail/random.hpp, a pure function of (seed, logical index).
inline std::uint32_t random_key(std::uint64_t seed, std::size_t index) noexcept {
  return lowprec::detail::random_bits(seed, index) >> 1;
}

template <class K>
inline constexpr K kSentinel = std::numeric_limits<K>::max();

// ---- Key sources -------------------------------------------------------------------------
// A source hands its keys over in chunks of consecutive logical indices; the selection
// runs over a source twice. Sources are virtual so that global pruning can mix formats;
// the per-element loops stay inside one function on each side of the call.
inline constexpr std::size_t kChunk = 2048;

template <class K>
class chunk_sink {
 public:
  virtual void take(const K* keys, std::size_t count, std::size_t pos) = 0;

 protected:
  ~chunk_sink() = default;
};

template <class K>
class key_source {
 public:
  virtual ~key_source() = default;
  virtual std::size_t size() const = 0;
  virtual void produce(chunk_sink<K>& sink) const = 0;
};

// Magnitudes of a view's elements; prior (logical order, may be null) excludes its zeros.
template <class K, class T>
class magnitude_source final : public key_source<K> {
 public:
  magnitude_source(const tensor_ref<const T>& v, const std::uint8_t* prior) : v_(v), prior_(prior) {}
  std::size_t size() const override { return v_.size(); }
  void produce(chunk_sink<K>& sink) const override {
    K keys[kChunk];
    for_each_run(v_, [&](const T* p, std::ptrdiff_t stride, std::size_t len, std::size_t pos) {
      for (std::size_t done = 0; done < len; done += kChunk) {
        const std::size_t c = std::min(kChunk, len - done);
        if (stride == 1) {
          const T* q = p + done;
          for (std::size_t i = 0; i < c; ++i) keys[i] = magnitude_key<K>(q[i]);
        } else {
          const T* q = p + static_cast<std::ptrdiff_t>(done) * stride;
          for (std::size_t i = 0; i < c; ++i) {
            keys[i] = magnitude_key<K>(q[static_cast<std::ptrdiff_t>(i) * stride]);
          }
        }
        if (prior_ != nullptr) {
          const std::uint8_t* m = prior_ + pos + done;
          for (std::size_t i = 0; i < c; ++i) keys[i] = m[i] != 0 ? keys[i] : kSentinel<K>;
        }
        sink.take(keys, c, pos + done);
      }
    });
  }

 private:
  tensor_ref<const T> v_;
  const std::uint8_t* prior_;
};

// Random keys for n logical indices.
class random_source final : public key_source<std::uint32_t> {
 public:
  random_source(std::size_t n, std::uint64_t seed, const std::uint8_t* prior)
      : n_(n), seed_(seed), prior_(prior) {}
  std::size_t size() const override { return n_; }
  void produce(chunk_sink<std::uint32_t>& sink) const override {
    std::uint32_t keys[kChunk];
    for (std::size_t pos = 0; pos < n_; pos += kChunk) {
      const std::size_t c = std::min(kChunk, n_ - pos);
      for (std::size_t i = 0; i < c; ++i) {
        keys[i] = prior_ != nullptr && prior_[pos + i] == 0 ? kSentinel<std::uint32_t>
                                                            : random_key(seed_, pos + i);
      }
      sink.take(keys, c, pos);
    }
  }

 private:
  std::size_t n_;
  std::uint64_t seed_;
  const std::uint8_t* prior_;
};

// Precomputed keys (channel norms).
template <class K>
class array_source final : public key_source<K> {
 public:
  array_source(const K* keys, std::size_t n) : keys_(keys), n_(n) {}
  std::size_t size() const override { return n_; }
  void produce(chunk_sink<K>& sink) const override {
    for (std::size_t pos = 0; pos < n_; pos += kChunk) sink.take(keys_ + pos, std::min(kChunk, n_ - pos), pos);
  }

 private:
  const K* keys_;
  std::size_t n_;
};

// Several sources one after the other (global pruning): logical indices continue.
template <class K>
class concat_source final : public key_source<K> {
 public:
  explicit concat_source(std::vector<const key_source<K>*> parts) : parts_(std::move(parts)) {}
  std::size_t size() const override {
    std::size_t n = 0;
    for (const auto* p : parts_) n += p->size();
    return n;
  }
  void produce(chunk_sink<K>& sink) const override {
    struct shifted final : chunk_sink<K> {
      chunk_sink<K>* inner = nullptr;
      std::size_t offset = 0;
      void take(const K* keys, std::size_t count, std::size_t pos) override {
        inner->take(keys, count, pos + offset);
      }
    } s;
    s.inner = &sink;
    for (const auto* p : parts_) {
      p->produce(s);
      s.offset += p->size();
    }
  }

 private:
  std::vector<const key_source<K>*> parts_;
};

// ---- Selection ---------------------------------------------------------------------------

inline constexpr int kDigitBits = 16;
inline constexpr std::size_t kBins = std::size_t{1} << kDigitBits;
inline constexpr std::size_t kSmallSelection = 2048;
// A boundary bin holding more than n / kCandidateShare elements is settled in place
// (settle_in_place) instead of being copied out as (key, index) candidates: with heavy ties
// (all weights equal, the exact zeros of a tensor pruned before) most of the tensor would
// otherwise become candidates, costing memory and a slow pass over them.
inline constexpr std::size_t kCandidateShare = 32;
// The default candidate_limit of the selections: n / kCandidateShare.
inline constexpr std::size_t kAutoLimit = std::numeric_limits<std::size_t>::max();
// A mask byte during an in-place selection: a boundary element not ranked yet (0 = pruned,
// 1 = kept). None is left when a selection returns.
inline constexpr std::uint8_t kUndecided = 2;

// P, the position type, is 32-bit where n < 2^32: half the memory of the boundary bin.
template <class K, class P = std::size_t>
struct candidate {
  K key;
  P pos;
};

template <class K>
constexpr int key_bits = static_cast<int>(sizeof(K) * 8);

template <class K>
constexpr std::size_t digit_of(K key, int shift) noexcept {
  return static_cast<std::size_t>((key >> shift) & 0xFFFFu);
}

// The bin where the k-th lowest key falls (k >= 1) and how many of that bin to prune.
template <class Count>
std::pair<std::size_t, std::size_t> boundary(const Count* hist, std::size_t k) noexcept {
  std::size_t below = 0;
  std::size_t bin = 0;
  while (below + hist[bin] < k) below += hist[bin++];
  return {bin, k - below};  // need: 1 .. hist[bin]
}

// Prunes `need` of the candidates (all in one bin of the digits above `shift`, in index
// order, provisionally pruned in out) and keeps the rest: 16 more bits at a time, then the
// first in index order among equal keys.
template <class K, class P>
void refine(std::vector<candidate<K, P>> cand, std::size_t need, int shift, std::uint8_t* out) {
  std::vector<std::size_t> hist;
  for (; shift >= 0 && need < cand.size(); shift -= kDigitBits) {
    hist.assign(kBins, 0);
    for (const auto& c : cand) ++hist[digit_of(c.key, shift)];
    const auto [bin, left] = boundary(hist.data(), need);
    need = left;
    std::size_t m = 0;
    for (const auto& c : cand) {
      const std::size_t d = digit_of(c.key, shift);
      if (d > bin) {
        out[c.pos] = 1;  // ranks above the boundary: kept
      } else if (d == bin) {
        cand[m++] = c;  // still undecided
      }  // below the boundary: stays pruned
    }
    cand.resize(m);
  }
  // What remains has equal keys (or is all pruned): the first `need` in index order go.
  for (std::size_t i = need; i < cand.size(); ++i) out[cand[i].pos] = 1;
}

// The undecided bytes of out[0, n) (all of one key): the first `need` in index order are
// pruned, the rest kept. Counted a block at a time so that the loops vectorise: whole blocks
// before the need-th undecided map 2 -> 0, whole blocks after it 2 -> 1.
inline void prune_first_undecided(std::uint8_t* out, std::size_t n, std::size_t need) noexcept {
  constexpr std::size_t kBlock = 4096;
  std::size_t at = 0;
  for (; at < n; at += kBlock) {
    const std::size_t c = std::min(kBlock, n - at);
    std::uint8_t* o = out + at;
    std::size_t undecided = 0;
    for (std::size_t i = 0; i < c; ++i) undecided += static_cast<std::size_t>(o[i] >> 1);
    if (undecided > need) break;
    for (std::size_t i = 0; i < c; ++i) o[i] = static_cast<std::uint8_t>(o[i] & 1u);
    need -= undecided;
  }
  if (at < n) {  // the block holding the last pruned one
    const std::size_t c = std::min(kBlock, n - at);
    std::uint8_t* o = out + at;
    for (std::size_t i = 0; i < c; ++i) {
      if (o[i] == kUndecided) {
        o[i] = need != 0 ? 0 : 1;
        need -= need != 0 ? 1 : 0;
      }
    }
    at += c;
  }
  for (; at < n; ++at) out[at] = static_cast<std::uint8_t>(out[at] != 0);
}

// Calls a callable with each chunk (keys, count, pos) of a source.
template <class K, class Fn>
class fn_sink final : public chunk_sink<K> {
 public:
  explicit fn_sink(Fn& fn) noexcept : fn_(fn) {}
  void take(const K* keys, std::size_t count, std::size_t pos) override { fn_(keys, count, pos); }

 private:
  Fn& fn_;
};

template <class K>
int highest_bit(K x) noexcept {  // x != 0
  int b = 0;
  for (auto v = static_cast<std::uint64_t>(x); v > 1; v >>= 1) ++b;
  return b;
}

// Ranks the undecided elements of out (marked kUndecided, keys in [lo, hi], one bin of the
// digits already ranked), pruning `need` of them, without copying them anywhere: while
// their keys differ, one pass histograms the highest digit in which lo and hi differ (all
// undecided keys share the digits above it, since they lie between lo and hi) and a second
// decides every undecided element outside that digit's boundary bin. Then all are equal
// and the first `need` in index order are pruned. visit(fn) calls fn(keys, count, pos) over
// all n keys in chunks, in index order. At most key_bits / 16 rounds; none when the
// boundary bin holds one key (the common case for ties).
template <class K, class Visit>
void settle_in_place(const Visit& visit, std::size_t n, std::size_t need, K lo, K hi, std::uint8_t* out) {
  std::vector<std::size_t> hist;
  while (lo != hi) {
    const int shift = highest_bit<K>(static_cast<K>(lo ^ hi)) / kDigitBits * kDigitBits;
    hist.assign(kBins, 0);
    visit([&](const K* keys, std::size_t count, std::size_t pos) {
      const std::uint8_t* o = out + pos;
      for (std::size_t i = 0; i < count; ++i) {
        if (o[i] == kUndecided) ++hist[digit_of(keys[i], shift)];
      }
    });
    const auto split = boundary(hist.data(), need);
    const std::size_t bin = split.first;
    need = split.second;
    K next_lo = std::numeric_limits<K>::max(), next_hi = 0;
    visit([&](const K* keys, std::size_t count, std::size_t pos) {
      std::uint8_t* o = out + pos;
      for (std::size_t i = 0; i < count; ++i) {
        if (o[i] != kUndecided) continue;
        const std::size_t d = digit_of(keys[i], shift);
        if (d != bin) {
          o[i] = d > bin ? 1 : 0;
        } else {
          next_lo = std::min(next_lo, keys[i]);
          next_hi = std::max(next_hi, keys[i]);
        }
      }
    });
    lo = next_lo;
    hi = next_hi;
  }
  prune_first_undecided(out, n, need);
}

// Pass 2 of select_prune with the boundary bin copied out: decides every element outside
// the boundary bin, collects the bin's `count` elements as candidates and ranks them.
template <class K, class P>
void collect_and_refine(const key_source<K>& src, std::size_t bin, std::size_t need, std::size_t count,
                        std::uint8_t* out) {
  constexpr int top_shift = key_bits<K> > kDigitBits ? key_bits<K> - kDigitBits : 0;
  std::vector<candidate<K, P>> cand;
  cand.reserve(count);
  const K b = static_cast<K>(bin);
  auto classify = [&](const K* keys, std::size_t c, std::size_t pos) {
    std::uint8_t* o = out + pos;
    for (std::size_t i = 0; i < c; ++i) {
      const K d = static_cast<K>(keys[i] >> top_shift);
      o[i] = static_cast<std::uint8_t>((d > b) & (keys[i] != kSentinel<K>));
    }
    for (std::size_t i = 0; i < c; ++i) {
      if (static_cast<K>(keys[i] >> top_shift) == b) cand.push_back({keys[i], static_cast<P>(pos + i)});
    }
  };
  fn_sink<K, decltype(classify)> s(classify);
  src.produce(s);
  refine<K, P>(std::move(cand), need, top_shift - kDigitBits, out);
}

// Writes out[i] = 1 (kept) or 0 (pruned or excluded) for the src.size() keys of src,
// pruning the k lowest (key, index) among the `eligible` non-sentinel keys.
// Preconditions (checked by callers): k <= eligible, eligible = number of non-sentinel keys.
// small_threshold and candidate_limit (the largest boundary bin copied out as candidates;
// kAutoLimit = n / kCandidateShare) choose the path; tests force each one.
template <class K>
void select_prune(const key_source<K>& src, std::size_t eligible, std::size_t k, std::uint8_t* out,
                  std::size_t small_threshold = kSmallSelection, std::size_t candidate_limit = kAutoLimit) {
  const std::size_t n = src.size();
  if (n == 0) return;

  // Nothing or everything to prune: one pass, no ranking.
  if (k == 0 || k == eligible) {
    struct all final : chunk_sink<K> {
      std::uint8_t* out = nullptr;
      bool keep = false;
      void take(const K* keys, std::size_t count, std::size_t pos) override {
        std::uint8_t* o = out + pos;
        for (std::size_t i = 0; i < count; ++i) o[i] = static_cast<std::uint8_t>(keep & (keys[i] != kSentinel<K>));
      }
    } s;
    s.out = out;
    s.keep = k == 0;
    src.produce(s);
    return;
  }

  // Small inputs: rank (key, index) pairs directly.
  if (n <= small_threshold) {
    struct gather final : chunk_sink<K> {
      std::vector<candidate<K>> c;
      std::uint8_t* out = nullptr;
      void take(const K* keys, std::size_t count, std::size_t pos) override {
        for (std::size_t i = 0; i < count; ++i) {
          out[pos + i] = 0;
          if (keys[i] != kSentinel<K>) c.push_back({keys[i], pos + i});
        }
      }
    } s;
    s.out = out;
    s.c.reserve(eligible);
    src.produce(s);
    const auto less = [](const candidate<K>& a, const candidate<K>& b) {
      return a.key < b.key || (a.key == b.key && a.pos < b.pos);
    };
    std::nth_element(s.c.begin(), s.c.begin() + static_cast<std::ptrdiff_t>(k), s.c.end(), less);
    for (std::size_t i = k; i < s.c.size(); ++i) out[s.c[i].pos] = 1;
    return;
  }

  constexpr int top_shift = key_bits<K> > kDigitBits ? key_bits<K> - kDigitBits : 0;
  std::vector<std::size_t> hist(kBins, 0);

  // Pass 1: histogram of the top digit (sentinels land in bin 0xFFFF, which no real key
  // reaches: real keys have the top bit clear).
  {
    struct histogram final : chunk_sink<K> {
      std::size_t* h = nullptr;
      void take(const K* keys, std::size_t count, std::size_t) override {
        for (std::size_t i = 0; i < count; ++i) ++h[static_cast<std::size_t>(keys[i] >> top_shift)];
      }
    } s;
    s.h = hist.data();
    src.produce(s);
  }
  const auto split = boundary(hist.data(), k);
  const std::size_t bin = split.first;
  const std::size_t need = split.second;

  // Pass 2: decide every element outside the boundary bin; then rank the bin's elements,
  // copied out when they are few, else in place.
  const std::size_t limit = candidate_limit == kAutoLimit ? n / kCandidateShare : candidate_limit;
  if (hist[bin] <= limit) {
    if (n <= 0xFFFFFFFFu) {
      collect_and_refine<K, std::uint32_t>(src, bin, need, hist[bin], out);
    } else {
      collect_and_refine<K, std::size_t>(src, bin, need, hist[bin], out);
    }
    return;
  }
  const K b = static_cast<K>(bin);
  K lo = std::numeric_limits<K>::max(), hi = 0;
  auto mark = [&](const K* keys, std::size_t count, std::size_t pos) {
    std::uint8_t* o = out + pos;
    K l = lo, h = hi;
    for (std::size_t i = 0; i < count; ++i) {
      const K key = keys[i];
      const K d = static_cast<K>(key >> top_shift);
      const bool in = d == b;
      o[i] = static_cast<std::uint8_t>(static_cast<unsigned>((d > b) & (key != kSentinel<K>)) |
                                       static_cast<unsigned>(in) << 1);
      const K sel = static_cast<K>(K{0} - static_cast<K>(in));  // all ones in the bin
      l = std::min(l, static_cast<K>(key | static_cast<K>(~sel)));  // branch-free: ties and
      h = std::max(h, static_cast<K>(key & sel));                     // others interleave
    }
    lo = l;
    hi = h;
  };
  fn_sink<K, decltype(mark)> s(mark);
  src.produce(s);
  const auto visit = [&src](auto&& fn) {
    fn_sink<K, std::remove_reference_t<decltype(fn)>> sink(fn);
    src.produce(sink);
  };
  settle_in_place<K>(visit, n, need, lo, hi, out);
}

// The same selection when every one of n < 2^32 elements is a candidate and key_at(i)
// gives the key of index i (a contiguous buffer, random keys): the loops are fused, with
// two interleaved histograms (fewer store-to-load stalls when neighbours share a bin) and
// no chunk buffer. Gives exactly select_prune's result.
template <class K, class KeyAt>
void select_prune_indexed(std::size_t n, std::size_t k, const KeyAt& key_at, std::uint8_t* out,
                          std::size_t candidate_limit = kAutoLimit) {
  constexpr int top_shift = key_bits<K> > kDigitBits ? key_bits<K> - kDigitBits : 0;
  if (k == 0 || k == n) {
    if (n != 0) std::memset(out, k == 0 ? 1 : 0, n);
    return;
  }
  std::vector<std::uint32_t> h0(kBins, 0), h1(kBins, 0);
  std::size_t i = 0;
  for (; i + 2 <= n; i += 2) {
    ++h0[static_cast<std::size_t>(key_at(i) >> top_shift)];
    ++h1[static_cast<std::size_t>(key_at(i + 1) >> top_shift)];
  }
  if (i < n) ++h0[static_cast<std::size_t>(key_at(i) >> top_shift)];
  for (std::size_t b = 0; b < kBins; ++b) h0[b] += h1[b];
  const auto split = boundary(h0.data(), k);
  const std::size_t bin = split.first;
  const std::size_t need = split.second;
  const K b = static_cast<K>(bin);
  const std::size_t limit = candidate_limit == kAutoLimit ? n / kCandidateShare : candidate_limit;
  if (h0[bin] <= limit) {
    std::vector<candidate<K, std::uint32_t>> cand;
    cand.reserve(h0[bin]);
    for (std::size_t at = 0; at < n; at += kChunk) {
      const std::size_t c = std::min(kChunk, n - at);
      std::uint8_t* o = out + at;
      for (std::size_t j = 0; j < c; ++j) o[j] = static_cast<std::uint8_t>(static_cast<K>(key_at(at + j) >> top_shift) > b);
      for (std::size_t j = 0; j < c; ++j) {
        const K key = key_at(at + j);
        if (static_cast<K>(key >> top_shift) == b) cand.push_back({key, static_cast<std::uint32_t>(at + j)});
      }
    }
    refine<K, std::uint32_t>(std::move(cand), need, top_shift - kDigitBits, out);
    return;
  }
  // A crowded boundary bin (ties): marked and ranked in place.
  K lo = std::numeric_limits<K>::max(), hi = 0;
  for (std::size_t j = 0; j < n; ++j) {
    const K key = key_at(j);
    const K d = static_cast<K>(key >> top_shift);
    const bool in = d == b;
    out[j] = static_cast<std::uint8_t>(static_cast<unsigned>(d > b) | static_cast<unsigned>(in) << 1);
    const K sel = static_cast<K>(K{0} - static_cast<K>(in));
    lo = std::min(lo, static_cast<K>(key | static_cast<K>(~sel)));
    hi = std::max(hi, static_cast<K>(key & sel));
  }
  const auto visit = [&key_at, n](auto&& fn) {
    K keys[kChunk];
    for (std::size_t at = 0; at < n; at += kChunk) {
      const std::size_t c = std::min(kChunk, n - at);
      for (std::size_t j = 0; j < c; ++j) keys[j] = key_at(at + j);
      fn(static_cast<const K*>(keys), c, at);
    }
  };
  settle_in_place<K>(visit, n, need, lo, hi, out);
}

// random_key(seed, i) for i < 2^32 with the per-seed key words computed once.
class random_keys_low {
 public:
  explicit random_keys_low(std::uint64_t seed) noexcept : key_(lowprec::detail::make_random_key(seed, 0)) {}
  std::uint32_t operator()(std::size_t i) const noexcept {
    std::uint32_t x = static_cast<std::uint32_t>(i);
#define LOWPREC_PRUNE_SHR(v, s) ((v) >> (s))
#define LOWPREC_PRUNE_CONST(c) (c)
    LOWPREC_RANDOM_MIX(x, key_.k0, key_.k1, LOWPREC_PRUNE_SHR, LOWPREC_PRUNE_CONST);
#undef LOWPREC_PRUNE_SHR
#undef LOWPREC_PRUNE_CONST
    return x >> 1;
  }

 private:
  lowprec::detail::random_key key_;
};

}  // namespace lowprec::prune::detail
