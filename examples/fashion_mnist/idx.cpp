#include "idx.hpp"

#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <memory>

namespace fashion_mnist {

const char* const class_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                     "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

std::string default_directory() {
  const char* env = std::getenv("LOWPREC_FASHION_MNIST");
  return env != nullptr && *env != '\0' ? env : "/usr/share/datasets/fashion-mnist";
}

namespace {

constexpr std::size_t kMaxBytes = std::size_t{1} << 28;  // 256 MiB: far above Fashion-MNIST

// The whole decompressed content of a .gz file.
std::vector<std::uint8_t> gunzip(const std::string& path) {
  if (!std::ifstream(path).good()) {
    throw dataset_error(path + " not found: install the Debian package dataset-fashion-mnist "
                        "(apt-get install dataset-fashion-mnist), or pass --data DIR / set "
                        "LOWPREC_FASHION_MNIST to a directory with the Fashion-MNIST .gz files");
  }
  const std::unique_ptr<gzFile_s, int (*)(gzFile)> f(gzopen(path.c_str(), "rb"), gzclose);
  if (!f) throw dataset_error(path + ": cannot open");
  std::vector<std::uint8_t> out;
  std::vector<std::uint8_t> chunk(1 << 20);
  for (;;) {
    const int n = gzread(f.get(), chunk.data(), static_cast<unsigned>(chunk.size()));
    if (n < 0) {
      int err = 0;
      const char* msg = gzerror(f.get(), &err);
      throw dataset_error(path + ": corrupt gzip data (" + (msg != nullptr ? msg : "?") + ")");
    }
    if (n == 0) break;
    out.insert(out.end(), chunk.begin(), chunk.begin() + n);
    if (out.size() > kMaxBytes) throw dataset_error(path + ": implausibly large");
  }
  return out;
}

std::uint32_t be32(const std::vector<std::uint8_t>& b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
         (std::uint32_t{b[at + 2]} << 8) | std::uint32_t{b[at + 3]};
}

// Checks an IDX header: magic, dimensions, and that the data is exactly there.
std::vector<std::size_t> idx_dims(const std::vector<std::uint8_t>& b, std::uint32_t magic,
                                  std::size_t rank, const std::string& path) {
  const std::size_t header = 4 + 4 * rank;
  if (b.size() < header) throw dataset_error(path + ": truncated IDX header");
  if (be32(b, 0) != magic) throw dataset_error(path + ": not an IDX file of the expected kind (bad magic)");
  std::vector<std::size_t> dims;
  std::size_t n = 1;
  for (std::size_t d = 0; d < rank; ++d) {
    const std::uint32_t v = be32(b, 4 + 4 * d);
    if (v == 0 || v > 1000000) throw dataset_error(path + ": implausible dimension " + std::to_string(v));
    dims.push_back(v);
    n *= v;
  }
  if (b.size() - header != n) {
    throw dataset_error(path + ": expected " + std::to_string(n) + " data bytes, found " +
                        std::to_string(b.size() - header));
  }
  return dims;
}

split load_split(const std::string& dir, const std::string& prefix) {
  const std::string images_path = dir + "/" + prefix + "-images-idx3-ubyte.gz";
  const std::string labels_path = dir + "/" + prefix + "-labels-idx1-ubyte.gz";
  std::vector<std::uint8_t> images = gunzip(images_path);
  std::vector<std::uint8_t> labels = gunzip(labels_path);
  const std::vector<std::size_t> di = idx_dims(images, 0x00000803u, 3, images_path);
  const std::vector<std::size_t> dl = idx_dims(labels, 0x00000801u, 1, labels_path);
  if (di[0] != dl[0]) {
    throw dataset_error(prefix + ": " + std::to_string(di[0]) + " images but " +
                        std::to_string(dl[0]) + " labels");
  }
  split s;
  s.count = di[0];
  s.pixels = di[1] * di[2];
  s.images.assign(images.begin() + 16, images.end());
  s.labels.assign(labels.begin() + 8, labels.end());
  for (const std::uint8_t l : s.labels) {
    if (l > 9) throw dataset_error(labels_path + ": label " + std::to_string(l) + " is not 0..9");
  }
  return s;
}

}  // namespace

dataset load(const std::string& dir) {
  dataset d;
  d.train = load_split(dir, "train");
  d.test = load_split(dir, "t10k");
  if (d.train.pixels != d.test.pixels) throw dataset_error(dir + ": train and test image sizes differ");
  return d;
}

}  // namespace fashion_mnist
