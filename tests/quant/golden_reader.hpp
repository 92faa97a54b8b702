// Reads tests/data/quant/golden.txt (written by make_golden.py beside it): one record per
// case, floats as float32 bit patterns in hex, so nothing is lost in printing.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace lowprec_test {

struct golden_case {
  std::string name, op, format, granularity;
  int axis = 0;
  std::size_t block = 0;
  std::vector<std::size_t> shape;
  std::vector<float> x, scales, deq;
  std::vector<std::int32_t> zero_points;
  std::vector<int> codes;
};

inline float float_from_hex(const std::string& h) {
  const auto u = static_cast<std::uint32_t>(std::stoul(h, nullptr, 16));
  float f = 0;
  std::memcpy(&f, &u, 4);
  return f;
}

inline std::vector<golden_case> read_golden(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open golden file " + path);
  std::vector<golden_case> cases;
  golden_case c;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    std::string key, tok;
    ss >> key;
    if (key == "case") {
      c = golden_case{};
      ss >> c.name >> c.op >> c.format >> c.granularity >> c.axis >> c.block;
    } else if (key == "shape") {
      while (ss >> tok) c.shape.push_back(static_cast<std::size_t>(std::stoul(tok)));
    } else if (key == "x" || key == "scales" || key == "deq") {
      std::vector<float>& v = key == "x" ? c.x : key == "scales" ? c.scales : c.deq;
      while (ss >> tok) v.push_back(float_from_hex(tok));
    } else if (key == "zero_points") {
      while (ss >> tok) c.zero_points.push_back(std::stoi(tok));
    } else if (key == "codes") {
      while (ss >> tok) c.codes.push_back(std::stoi(tok));
    } else if (key == "end") {
      cases.push_back(c);
    } else {
      throw std::runtime_error("golden file " + path + ": unexpected line '" + line + "'");
    }
  }
  return cases;
}

inline std::uint32_t float_bits(float f) {
  std::uint32_t u = 0;
  std::memcpy(&u, &f, 4);
  return u;
}

}  // namespace lowprec_test
