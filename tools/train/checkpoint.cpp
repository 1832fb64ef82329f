#include "checkpoint.h"

#include <tensorgrad/base/error.h>
#include <tensorgrad/io/safetensors.h>

#include <charconv>
#include <cstdio>
#include <map>

namespace tg::train {

namespace {

constexpr const char* kFormat = "tensorgrad-train-checkpoint/1";

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

class Metadata {
 public:
  Metadata(const std::map<std::string, std::string>& m, const std::string& path) : m_(m), path_(path) {}
  const std::string& text(const std::string& key) const {
    auto it = m_.find(key);
    TG_CHECK(it != m_.end(), path_, ": not a complete training checkpoint: metadata key \"", key, "\" is missing");
    return it->second;
  }
  template <class T>
  T number(const std::string& key) const {
    const std::string& s = text(key);
    T value{};
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    TG_CHECK(ec == std::errc() && end == s.data() + s.size(), path_, ": metadata \"", key, "\" = \"", s,
             "\" is not a valid number");
    return value;
  }

 private:
  const std::map<std::string, std::string>& m_;
  const std::string& path_;
};

}  // namespace

void save_checkpoint(const std::string& path, const nn::Module& model, const optim::Optimizer& optimizer,
                     const RunConfig& config, int64_t epochs_done, const Generator& gen,
                     const std::vector<EpochMetrics>& history, const std::vector<int64_t>& ps_pushes) {
  StateDict tensors;
  for (auto& [name, t] : model.state_dict()) tensors["model." + name] = t;
  for (auto& [name, t] : optimizer.state_dict()) tensors["optimizer." + name] = t;
  std::map<std::string, std::string> metadata{
      {"format", kFormat},
      {"model", config.model},
      {"optimizer", config.optimizer},
      {"batch_size", std::to_string(config.batch_size)},
      {"lr", num(config.lr)},
      {"momentum", num(config.momentum)},
      {"weight_decay", num(config.weight_decay)},
      {"seed", std::to_string(config.seed)},
      {"train_limit", std::to_string(config.train_limit)},
      {"world_size", std::to_string(config.world_size)},
      {"inputs", config.inputs},
      {"epochs_done", std::to_string(epochs_done)},
      {"rng_seed", std::to_string(gen.seed())},
      {"rng_offset", std::to_string(gen.offset())},
      {"metrics_csv", metrics_csv(history)},
  };
  if (!ps_pushes.empty()) {
    std::string pushes;
    for (size_t r = 0; r < ps_pushes.size(); ++r) {
      if (r > 0) pushes += ',';
      pushes += std::to_string(ps_pushes[r]);
    }
    metadata["ps_pushes"] = pushes;
  }
  save_safetensors(path, tensors, metadata);
}

Checkpoint load_checkpoint(const std::string& path) {
  const SafetensorsFile file = load_safetensors(path);
  const Metadata meta(file.metadata, path);
  TG_CHECK(meta.text("format") == kFormat, path, ": unsupported checkpoint format \"", meta.text("format"),
           "\" (expected ", kFormat, ")");
  Checkpoint ck;
  ck.config.model = meta.text("model");
  ck.config.optimizer = meta.text("optimizer");
  ck.config.batch_size = meta.number<int64_t>("batch_size");
  ck.config.lr = meta.number<double>("lr");
  ck.config.momentum = meta.number<double>("momentum");
  ck.config.weight_decay = meta.number<double>("weight_decay");
  ck.config.seed = meta.number<uint64_t>("seed");
  ck.config.train_limit = meta.number<int64_t>("train_limit");
  // Checkpoints from before distributed training have no world size: they were single-process runs.
  ck.config.world_size = file.metadata.count("world_size") ? meta.number<int64_t>("world_size") : 1;
  ck.config.inputs = meta.text("inputs");
  TG_CHECK(ck.config.inputs == "unit" || ck.config.inputs == "standard", path, ": unknown input scaling \"",
           ck.config.inputs, "\" (expected unit or standard)");
  ck.epochs_done = meta.number<int64_t>("epochs_done");
  ck.rng_seed = meta.number<uint64_t>("rng_seed");
  ck.rng_offset = meta.number<uint64_t>("rng_offset");
  ck.history = parse_metrics_csv(meta.text("metrics_csv"), path);
  TG_CHECK(ck.epochs_done >= 0 && static_cast<size_t>(ck.epochs_done) == ck.history.size(), path,
           ": checkpoint says ", ck.epochs_done, " epochs are done but holds metrics for ", ck.history.size());
  if (file.metadata.count("ps_pushes")) {
    const std::string& text = meta.text("ps_pushes");
    for (size_t begin = 0; begin <= text.size();) {
      size_t end = text.find(',', begin);
      if (end == std::string::npos) end = text.size();
      int64_t value = -1;
      const auto [stop, ec] = std::from_chars(text.data() + begin, text.data() + end, value);
      TG_CHECK(ec == std::errc() && stop == text.data() + end && value >= 0, path, ": metadata \"ps_pushes\" = \"",
               text, "\" is not a list of counts");
      ck.ps_pushes.push_back(value);
      begin = end + 1;
    }
    TG_CHECK(static_cast<int64_t>(ck.ps_pushes.size()) == ck.config.world_size, path, ": \"ps_pushes\" has ",
             ck.ps_pushes.size(), " entries for a world of ", ck.config.world_size);
  }
  for (const auto& [name, t] : file.tensors) {
    if (name.rfind("model.", 0) == 0) ck.model[name.substr(6)] = t;
    else if (name.rfind("optimizer.", 0) == 0) ck.optimizer[name.substr(10)] = t;
    else TG_FAIL(path, ": unexpected tensor \"", name, "\" in a training checkpoint");
  }
  return ck;
}

}  // namespace tg::train
