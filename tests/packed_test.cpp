// Packed 4-bit storage: the native order and the bitsandbytes / ONNX orders, byte-exact.
#include "lowprec/packed.hpp"

#include <cstdint>
#include <vector>

#include "support/catch.hpp"

using lowprec::int4;
using lowprec::nibble_order;
using lowprec::uint4;

TEST_CASE("native order puts the first element in the low nibble (ONNX, PyTorch)", "[quant]") {
  const std::vector<uint4> codes = {uint4(1), uint4(2), uint4(3), uint4(4), uint4(15)};
  std::vector<std::uint8_t> bytes(lowprec::packed_size(codes.size()), 0xEE);
  REQUIRE(bytes.size() == 3);
  lowprec::pack4(codes.data(), codes.size(), bytes.data());
  CHECK(bytes == std::vector<std::uint8_t>{0x21, 0x43, 0x0F});
  lowprec::pack4(codes.data(), codes.size(), bytes.data(), nibble_order::high_first);
  CHECK(bytes == std::vector<std::uint8_t>{0x12, 0x34, 0xF0});  // bitsandbytes
}

TEST_CASE("pack then unpack returns every code in both orders and every length", "[quant]") {
  for (std::size_t n : {0u, 1u, 2u, 3u, 31u, 32u, 33u, 257u}) {
    std::vector<int4> codes(n);
    for (std::size_t i = 0; i < n; ++i) codes[i] = int4::from_bits(static_cast<std::uint8_t>((i * 7 + 3) & 15));
    for (const auto order : {nibble_order::low_first, nibble_order::high_first}) {
      std::vector<std::uint8_t> bytes(lowprec::packed_size(n) + 1, 0xAB);  // +1: sentinel
      lowprec::pack4(codes.data(), n, bytes.data(), order);
      CHECK(bytes.back() == 0xAB);
      std::vector<int4> back(n);
      lowprec::unpack4(bytes.data(), n, back.data(), order);
      for (std::size_t i = 0; i < n; ++i) REQUIRE(back[i].bits() == codes[i].bits());
    }
  }
}

TEST_CASE("packed4_array reads, writes, imports and exports byte-exactly", "[quant]") {
  std::vector<uint4> codes;
  for (int i = 0; i < 9; ++i) codes.push_back(uint4(i + 5));
  auto a = lowprec::packed4_array<uint4>::from_codes(codes.data(), codes.size());
  CHECK(a.size() == 9);
  CHECK(a.size_bytes() == 5);
  for (std::size_t i = 0; i < codes.size(); ++i) CHECK(a.get(i).bits() == codes[i].bits());
  a.set(3, uint4(0));
  CHECK(static_cast<int>(a.get(3)) == 0);
  CHECK(static_cast<int>(a.get(2)) == 7);  // the neighbour in the same byte is untouched
  CHECK(static_cast<int>(a.get(4)) == 9);
  const std::vector<std::uint8_t> bnb = a.to_bytes(nibble_order::high_first);
  const auto b = lowprec::packed4_array<uint4>::from_bytes(bnb.data(), bnb.size(), 9,
                                                            nibble_order::high_first);
  CHECK(b.to_bytes(nibble_order::low_first) == a.to_bytes(nibble_order::low_first));
  CHECK(bnb[0] == 0x56);
  CHECK(a.data()[0] == 0x65);
  CHECK_THROWS_WITH(lowprec::packed4_array<uint4>::from_bytes(bnb.data(), 4, 9,
                                                              nibble_order::high_first),
                    "packed4_array::from_bytes: byte_count 4 does not hold count 9 codes (needs 5)");
}
