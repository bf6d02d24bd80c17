#include "passes/distill_shards.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>

#include "core/sha256.h"
#include "core/tensor.h"
#include "formats/safetensors.h"

namespace edgepack {

namespace fs = std::filesystem;

uint64_t shard_tensor_spec::sample_bytes() const {
  uint64_t count = 1;
  for (int64_t d : sample_shape) count *= static_cast<uint64_t>(d);
  return dtype_bytes_for(type, count);
}

uint64_t shard_layout::sample_bytes() const {
  uint64_t total = 0;
  for (const auto& t : tensors) total += t.sample_bytes();
  return total;
}

namespace {

std::vector<int64_t> shard_shape(const shard_tensor_spec& spec, int64_t count) {
  std::vector<int64_t> shape{count};
  shape.insert(shape.end(), spec.sample_shape.begin(), spec.sample_shape.end());
  return shape;
}

std::vector<const shard_tensor_spec*> by_name(const shard_layout& layout) {
  std::vector<const shard_tensor_spec*> sorted;
  for (const auto& t : layout.tensors) sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->name < b->name; });
  return sorted;
}

// The header write_safetensors produces for these tensors: a JSON object (keys sorted bytewise, as
// nlohmann's std::map-backed object is), data laid out in name order, padded to 8 bytes.
uint64_t header_bytes(const shard_layout& layout, int64_t count, const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto* spec : by_name(layout)) {
    const uint64_t bytes = spec->sample_bytes() * static_cast<uint64_t>(count);
    header[spec->name] = {{"dtype", dtype_name(spec->type)}, {"shape", shard_shape(*spec, count)}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  const uint64_t size = header.dump().size();
  return size + (8 - size % 8) % 8;
}

std::map<std::string, std::string> shard_metadata(std::map<std::string, std::string> base, int64_t first, int64_t count) {
  base["first_sample"] = std::to_string(first);
  base["samples"] = std::to_string(count);
  return base;
}

}  // namespace

uint64_t shard_file_bytes(const shard_layout& layout, int64_t count, const std::map<std::string, std::string>& metadata) {
  return 8 + header_bytes(layout, count, metadata) + layout.sample_bytes() * static_cast<uint64_t>(count);
}

std::string shard_file_name(int64_t index) {
  char name[64];
  std::snprintf(name, sizeof name, "targets-%05lld.safetensors", static_cast<long long>(index));
  return name;
}

Expected<shard_writer> shard_writer::create(std::string dir, shard_layout layout, uint64_t shard_bytes, int64_t total_samples,
                                            std::map<std::string, std::string> metadata) {
  shard_writer w;
  w.dir_ = std::move(dir);
  w.layout_ = std::move(layout);
  w.shard_bytes_ = shard_bytes;
  w.total_samples_ = total_samples;
  w.metadata_ = std::move(metadata);
  // The largest sample index gives the longest single-sample header.
  const int64_t last = std::max<int64_t>(0, total_samples - 1);
  const uint64_t one = shard_file_bytes(w.layout_, 1, shard_metadata(w.metadata_, last, 1));
  if (one > shard_bytes)
    return bad_usage("--shard-size " + std::to_string(shard_bytes) + " bytes is smaller than one sample's shard (" + std::to_string(one) +
                     " bytes including its header); raise --shard-size");
  w.buffers_.resize(w.layout_.tensors.size());
  w.shard_capacity_ = w.plan_next_shard();
  w.reserve_buffers();
  return w;
}

int64_t shard_writer::plan_next_shard() const {
  const int64_t remaining = total_samples_ - next_sample_;
  if (remaining <= 0) return 0;
  const uint64_t per_sample = layout_.sample_bytes();
  // The header of a fuller shard has at least as many digits, so it bounds the header of any
  // smaller count: plan with the upper bound, then grow while the exact size still fits.
  int64_t count = std::min<int64_t>(remaining, static_cast<int64_t>(shard_bytes_ / std::max<uint64_t>(per_sample, 1)));
  count = std::max<int64_t>(count, 1);
  const uint64_t header = header_bytes(layout_, count, shard_metadata(metadata_, next_sample_, count)) + 8;
  count = header >= shard_bytes_ ? 1 : std::min<int64_t>(remaining, static_cast<int64_t>((shard_bytes_ - header) / std::max<uint64_t>(per_sample, 1)));
  count = std::max<int64_t>(count, 1);
  while (count < remaining && shard_file_bytes(layout_, count + 1, shard_metadata(metadata_, next_sample_, count + 1)) <= shard_bytes_) ++count;
  while (count > 1 && shard_file_bytes(layout_, count, shard_metadata(metadata_, next_sample_, count)) > shard_bytes_) --count;
  return count;
}

Status shard_writer::add_sample(std::span<const std::span<const std::byte>> parts) {
  if (parts.size() != layout_.tensors.size() || next_sample_ >= total_samples_) return internal_error("shard_writer: unexpected sample");
  for (size_t t = 0; t < parts.size(); ++t) {
    if (parts[t].size() != layout_.tensors[t].sample_bytes())
      return internal_error("shard_writer: tensor '" + layout_.tensors[t].name + "' sample has " + std::to_string(parts[t].size()) + " bytes");
    buffers_[t].insert(buffers_[t].end(), parts[t].begin(), parts[t].end());
  }
  ++next_sample_;
  ++in_shard_;
  if (in_shard_ == shard_capacity_) return flush();
  return Status::ok_status();
}

Status shard_writer::flush() {
  if (in_shard_ == 0) return Status::ok_status();
  const int64_t index = static_cast<int64_t>(shards_.size());
  const std::string name = shard_file_name(index);
  const std::string path = (fs::path(dir_) / name).string();
  const auto metadata = shard_metadata(metadata_, shard_first_, in_shard_);
  std::map<std::string, tensor> tensors;
  nlohmann::json described = nlohmann::json::object();
  for (size_t t = 0; t < layout_.tensors.size(); ++t) {
    const auto& spec = layout_.tensors[t];
    tensor x;
    x.type = spec.type;
    x.shape = shard_shape(spec, in_shard_);
    x.data = make_owned_view(std::move(buffers_[t]));
    buffers_[t] = {};
    described[spec.name] = {{"dtype", dtype_name(spec.type)}, {"shape", x.shape}};
    tensors.emplace(spec.name, std::move(x));
  }
  EP_RETURN_IF_ERROR(write_safetensors(path, tensors, metadata));
  tensors.clear();  // the shard's memory goes before the next one fills
  const uint64_t expected = shard_file_bytes(layout_, in_shard_, metadata);
  std::error_code ec;
  const uint64_t written = fs::file_size(path, ec);
  if (ec || written != expected)
    return internal_error(path + ": wrote " + std::to_string(written) + " bytes, planned " + std::to_string(expected) + " (shard size bound)");
  EP_ASSIGN_OR_RETURN(std::string digest, sha256_file_hex(path));
  shards_.push_back({{"file", name}, {"first_sample", shard_first_}, {"samples", in_shard_}, {"bytes", written}, {"sha256", digest}, {"tensors", described}});
  shard_first_ += in_shard_;
  in_shard_ = 0;
  shard_capacity_ = plan_next_shard();
  reserve_buffers();
  return Status::ok_status();
}

void shard_writer::reserve_buffers() {
  // Exactly one shard's bytes, allocated once: growing by doubling could hold up to twice that.
  for (size_t t = 0; t < layout_.tensors.size(); ++t) buffers_[t].reserve(layout_.tensors[t].sample_bytes() * static_cast<uint64_t>(shard_capacity_));
}

Status shard_writer::finish() {
  if (next_sample_ != total_samples_) return internal_error("shard_writer: " + std::to_string(next_sample_) + " of " + std::to_string(total_samples_) + " samples added");
  return flush();
}

Expected<staged_directory> staged_directory::create(const std::string& target, const std::string& marker_file, bool replace_existing) {
  std::error_code ec;
  const fs::path path(target);
  if (fs::exists(path, ec)) {
    if (!fs::is_directory(path, ec)) return bad_usage(target + ": exists and is not a directory");
    const bool empty = fs::is_empty(path, ec);
    if (!empty && !replace_existing) return bad_usage(target + ": output directory exists and is not empty (pass --force to replace an earlier output)");
    if (!empty && !fs::exists(path / marker_file, ec))
      return bad_usage(target + ": exists, is not empty and holds no " + marker_file + "; refusing to replace a directory this command did not write");
  }
  const fs::path parent = path.has_parent_path() && !path.parent_path().empty() ? path.parent_path() : fs::path(".");
  if (!fs::is_directory(parent, ec)) return io_failure(target + ": parent directory " + parent.string() + " does not exist");
  static std::atomic<int> counter{0};
  const fs::path staging = parent / ("." + path.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  if (!fs::create_directory(staging, ec) || ec) return io_failure(staging.string() + ": cannot create the staging directory: " + ec.message());
  return staged_directory(target, staging.string());
}

staged_directory::staged_directory(staged_directory&& other) noexcept
    : target_(std::move(other.target_)), staging_(std::move(other.staging_)), committed_(other.committed_) {
  other.committed_ = true;
}

staged_directory::~staged_directory() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(staging_, ec);
}

Status staged_directory::commit() {
  std::error_code ec;
  const fs::path target(target_);
  fs::path old;
  if (fs::exists(target, ec) && !fs::is_empty(target, ec)) {
    old = fs::path(staging_ + ".old");
    fs::rename(target, old, ec);
    if (ec) return io_failure(target_ + ": cannot move the earlier output aside: " + ec.message());
  }
  fs::rename(staging_, target, ec);  // replaces an empty directory
  if (ec) {
    if (!old.empty()) fs::rename(old, target, ec);
    return io_failure(target_ + ": cannot rename the finished output into place: " + ec.message());
  }
  committed_ = true;
  if (!old.empty()) fs::remove_all(old, ec);
  const fs::path parent = target.has_parent_path() && !target.parent_path().empty() ? target.parent_path() : fs::path(".");
  const int fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  return Status::ok_status();
}

}  // namespace edgepack
