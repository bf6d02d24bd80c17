// Size-bounded safetensors shards of per-sample tensors, and the output directory that holds them
// (docs/distill.md). Used by distill-targets; the layout is generic: every tensor of a shard is
// [samples_in_shard, ...sample_shape] and each shard holds whole samples.
//
// Bounds: a shard file (header included) is at most `shard_bytes`; only the samples of the shard
// being filled are held in memory. The number of samples per shard is planned from the exact file
// size (header + data), computed the way formats/safetensors_writer.cpp lays the file out; the
// writer checks the file it wrote has exactly that size.
#pragma once
#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"

namespace edgepack {

struct shard_tensor_spec {
  std::string name;
  dtype type = dtype::f32;
  std::vector<int64_t> sample_shape;  // shape of one sample's slice
  uint64_t sample_bytes() const;
};

struct shard_layout {
  std::vector<shard_tensor_spec> tensors;  // any order; files list them by name
  uint64_t sample_bytes() const;
};

// Exact size of a shard file holding `count` samples with this metadata.
uint64_t shard_file_bytes(const shard_layout& layout, int64_t count, const std::map<std::string, std::string>& metadata);

// "targets-00000.safetensors" ...
std::string shard_file_name(int64_t index);

// Fills shards in `dir` sample by sample and writes each one atomically once full.
class shard_writer {
 public:
  // `metadata` goes into every shard's __metadata__, plus "first_sample" and "samples" of that shard.
  // Fails (bad_usage) when one sample with its header does not fit in `shard_bytes`.
  static Expected<shard_writer> create(std::string dir, shard_layout layout, uint64_t shard_bytes, int64_t total_samples,
                                       std::map<std::string, std::string> metadata);

  // One sample: bytes of each tensor of the layout, in layout order.
  Status add_sample(std::span<const std::span<const std::byte>> parts);
  // Writes the last shard; every sample must have been added.
  Status finish();

  // Per shard: file, first_sample, samples, bytes, sha256, tensors {name: {dtype, shape}}.
  const nlohmann::json& shards() const { return shards_; }

 private:
  Status flush();
  int64_t plan_next_shard() const;  // samples of the shard starting at next_sample_
  void reserve_buffers();

  std::string dir_;
  shard_layout layout_;
  uint64_t shard_bytes_ = 0;
  int64_t total_samples_ = 0;
  std::map<std::string, std::string> metadata_;
  std::vector<std::vector<std::byte>> buffers_;  // per layout tensor, the current shard's samples
  int64_t shard_first_ = 0, shard_capacity_ = 0, in_shard_ = 0, next_sample_ = 0;
  nlohmann::json shards_ = nlohmann::json::array();
};

// The output directory, built under a staging name beside it and renamed into place by commit(),
// so a failed run leaves nothing at `target` (and an existing one unchanged).
class staged_directory {
 public:
  // `target` must not exist or be an empty directory; with `replace_existing`, it may also be a
  // directory holding `marker_file` (an earlier output of the same kind), replaced on commit.
  // Anything else is refused (bad_usage), so --force never deletes unrelated data.
  static Expected<staged_directory> create(const std::string& target, const std::string& marker_file, bool replace_existing);
  staged_directory(staged_directory&& other) noexcept;
  staged_directory& operator=(staged_directory&&) = delete;
  ~staged_directory();  // removes the staging directory unless committed

  const std::string& path() const { return staging_; }
  Status commit();

 private:
  staged_directory(std::string target, std::string staging) : target_(std::move(target)), staging_(std::move(staging)) {}
  std::string target_, staging_;
  bool committed_ = false;
};

}  // namespace edgepack
