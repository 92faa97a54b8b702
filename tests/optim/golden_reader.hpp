// Reads tests/data/optim/adam.txt and maps.txt (written by make_golden.py beside them):
// PyTorch 1.13's Adam/AdamW trajectories and the quantization maps, floats as float32
// bit patterns in hex.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace lowprec_test {

inline float hex_float(const std::string& h) {
  const auto u = static_cast<std::uint32_t>(std::stoul(h, nullptr, 16));
  float f = 0;
  std::memcpy(&f, &u, 4);
  return f;
}

inline std::vector<float> read_floats(std::istringstream& ss) {
  std::vector<float> v;
  std::string tok;
  while (ss >> tok) v.push_back(hex_float(tok));
  return v;
}

struct golden_group {
  double lr, beta1, beta2, eps, weight_decay;
  bool amsgrad, maximize;
  int first_step;
  std::vector<int> tensors;
};

struct golden_state {
  std::uint64_t step = 0;
  std::vector<float> exp_avg, exp_avg_sq, max_exp_avg_sq;
};

struct golden_case {
  std::string name, kind;
  std::vector<golden_group> groups;
  std::map<std::pair<int, int>, std::vector<float>> params;  // (step, tensor) -> values
  std::map<int, golden_state> states;
};

struct golden_adam {
  std::vector<std::vector<std::size_t>> shapes;
  std::vector<std::vector<float>> inits;
  std::vector<std::vector<std::vector<float>>> grads;  // [step - 1][tensor]
  std::vector<golden_case> cases;
};

inline golden_adam read_golden_adam(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open golden file " + path);
  golden_adam g;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    std::string key;
    ss >> key;
    if (key == "tensor") {
      int t = 0;
      ss >> t;
      std::vector<std::size_t> shape;
      std::size_t d = 0;
      while (ss >> d) shape.push_back(d);
      g.shapes.push_back(shape);
    } else if (key == "init") {
      int t = 0;
      ss >> t;
      g.inits.push_back(read_floats(ss));
    } else if (key == "grad") {
      int step = 0, t = 0;
      ss >> step >> t;
      if (static_cast<int>(g.grads.size()) < step) g.grads.resize(static_cast<std::size_t>(step));
      auto& row = g.grads[static_cast<std::size_t>(step - 1)];
      if (static_cast<int>(row.size()) <= t) row.resize(static_cast<std::size_t>(t + 1));
      row[static_cast<std::size_t>(t)] = read_floats(ss);
    } else if (key == "case") {
      golden_case c;
      ss >> c.name >> c.kind;
      g.cases.push_back(c);
    } else if (key == "group") {
      golden_group gr{};
      int ams = 0, maxi = 0;
      ss >> gr.lr >> gr.beta1 >> gr.beta2 >> gr.eps >> gr.weight_decay >> ams >> maxi >>
          gr.first_step;
      gr.amsgrad = ams != 0;
      gr.maximize = maxi != 0;
      int t = 0;
      while (ss >> t) gr.tensors.push_back(t);
      g.cases.back().groups.push_back(gr);
    } else if (key == "param") {
      int step = 0, t = 0;
      ss >> step >> t;
      g.cases.back().params[{step, t}] = read_floats(ss);
    } else if (key == "state") {
      int t = 0;
      std::uint64_t step = 0;
      std::string which;
      ss >> t >> step >> which;
      golden_state& st = g.cases.back().states[t];
      st.step = step;
      (which == "exp_avg"      ? st.exp_avg
       : which == "exp_avg_sq" ? st.exp_avg_sq
                               : st.max_exp_avg_sq) = read_floats(ss);
    } else if (key == "end") {
    } else {
      throw std::runtime_error("golden file " + path + ": unexpected line '" + line + "'");
    }
  }
  return g;
}

// maps.txt: name -> {"torch" | "exact" -> values}
inline std::map<std::string, std::map<std::string, std::vector<float>>> read_golden_maps(
    const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open golden file " + path);
  std::map<std::string, std::map<std::string, std::vector<float>>> maps;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    std::string key, name, kind;
    ss >> key >> name >> kind;
    if (key != "map")
      throw std::runtime_error("golden file " + path + ": unexpected line '" + line + "'");
    maps[name][kind] = read_floats(ss);
  }
  return maps;
}

}  // namespace lowprec_test
