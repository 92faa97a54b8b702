// Fashion-MNIST in IDX format, read from the gzip files the Debian package
// dataset-fashion-mnist installs (/usr/share/datasets/fashion-mnist/*.gz). No lowprec here.
//
// IDX (yann.lecun.com/exdb/mnist): big-endian u32 magic 0x00000803 (images) or 0x00000801
// (labels), then one big-endian u32 per dimension, then unsigned bytes in row-major order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace fashion_mnist {

// A missing or malformed dataset: the message says which file and what is wrong.
class dataset_error : public std::runtime_error {
 public:
  explicit dataset_error(const std::string& what) : std::runtime_error(what) {}
};

struct split {
  std::size_t count = 0;
  std::size_t pixels = 0;              // 28 * 28
  std::vector<std::uint8_t> images;    // count * pixels, row-major
  std::vector<std::uint8_t> labels;    // count, 0..9
};

struct dataset {
  split train, test;
};

// The default directory: $LOWPREC_FASHION_MNIST if set, else Debian's.
std::string default_directory();

// Loads train-{images,labels}-idx?-ubyte.gz and t10k-*.gz from `dir`. Throws dataset_error
// (naming the Debian package when files are missing) for a missing, truncated or malformed file.
dataset load(const std::string& dir);

// The ten class names, in label order.
extern const char* const class_names[10];

}  // namespace fashion_mnist
