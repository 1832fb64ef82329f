// Optimizers and schedules, data loading, safetensors and the profiler.
#include <memory>

#include "bindings.h"
#include "gil.h"

namespace tg::python {

namespace {

using optim::Optimizer;

// One pass over a DataLoader. Starting a pass advances the loader's epoch, so the next pass reshuffles (as
// iterating a torch DataLoader again does), whether or not this one ran to the end.
struct EpochIterator {
  DataLoader* loader;
  std::unique_ptr<DataLoader::Epoch> epoch;
  DataLoader::Iterator it;
  bool started = false;
};

// A profiler range opened from Python (tensorgrad.profiler.record_function).
struct PythonRange {
  std::string name;
  std::unique_ptr<profiler::RecordScope> scope;
};

py::dict state_dict_to_python(const StateDict& s) {
  py::dict d;
  for (const auto& [k, v] : s) d[py::str(k)] = v;
  return d;
}

}  // namespace

void bind_optim(py::module_& optim) {
  py::class_<Optimizer, std::shared_ptr<Optimizer>>(optim, "Optimizer", "Updates parameters from their gradients.")
      .def("step", &Optimizer::step, py::call_guard<py::gil_scoped_release>())
      .def("zero_grad", &Optimizer::zero_grad, py::arg("set_to_none") = true)
      .def_property("lr", &Optimizer::lr, &Optimizer::set_lr)
      .def_property_readonly("name", &Optimizer::name)
      .def("parameters", &Optimizer::parameters)
      .def("hyperparameters", &Optimizer::hyperparameters)
      .def("state_dict", &Optimizer::state_dict)
      .def("load_state_dict", &Optimizer::load_state_dict, py::arg("state_dict"));
  py::class_<optim::SGD, Optimizer, std::shared_ptr<optim::SGD>>(optim, "SGD")
      .def(py::init([](std::vector<Tensor> params, double lr, double momentum, double dampening, double weight_decay,
                       bool nesterov) {
             return std::make_shared<optim::SGD>(std::move(params), lr, momentum, dampening, nesterov, weight_decay);
           }),
           py::arg("params"), py::arg("lr") = 1e-3, py::arg("momentum") = 0.0, py::arg("dampening") = 0.0,
           py::arg("weight_decay") = 0.0, py::arg("nesterov") = false);
  py::class_<optim::Adam, Optimizer, std::shared_ptr<optim::Adam>>(optim, "Adam")
      .def(py::init([](std::vector<Tensor> params, double lr, std::pair<double, double> betas, double eps,
                       double weight_decay, bool amsgrad) {
             return std::make_shared<optim::Adam>(std::move(params), lr, betas, eps, weight_decay, amsgrad);
           }),
           py::arg("params"), py::arg("lr") = 1e-3, py::arg("betas") = std::pair<double, double>{0.9, 0.999},
           py::arg("eps") = 1e-8, py::arg("weight_decay") = 0.0, py::arg("amsgrad") = false);
  py::class_<optim::AdamW, optim::Adam, std::shared_ptr<optim::AdamW>>(optim, "AdamW")
      .def(py::init([](std::vector<Tensor> params, double lr, std::pair<double, double> betas, double eps,
                       double weight_decay, bool amsgrad) {
             return std::make_shared<optim::AdamW>(std::move(params), lr, betas, eps, weight_decay, amsgrad);
           }),
           py::arg("params"), py::arg("lr") = 1e-3, py::arg("betas") = std::pair<double, double>{0.9, 0.999},
           py::arg("eps") = 1e-8, py::arg("weight_decay") = 1e-2, py::arg("amsgrad") = false);
  py::class_<optim::RMSprop, Optimizer, std::shared_ptr<optim::RMSprop>>(optim, "RMSprop")
      .def(py::init([](std::vector<Tensor> params, double lr, double alpha, double eps, double weight_decay,
                       double momentum, bool centered) {
             return std::make_shared<optim::RMSprop>(std::move(params), lr, alpha, eps, weight_decay, momentum, centered);
           }),
           py::arg("params"), py::arg("lr") = 1e-2, py::arg("alpha") = 0.99, py::arg("eps") = 1e-8,
           py::arg("weight_decay") = 0.0, py::arg("momentum") = 0.0, py::arg("centered") = false);

  // ---- schedules: an LRSchedule maps a step count to a learning rate; a Scheduler applies one ----
  using optim::LRSchedule;
  py::class_<LRSchedule, std::shared_ptr<LRSchedule>>(optim, "LRSchedule")
      .def("__call__", &LRSchedule::lr_at, py::arg("t"));
  py::class_<optim::ConstantLR, LRSchedule, std::shared_ptr<optim::ConstantLR>>(optim, "ConstantSchedule")
      .def(py::init<double>(), py::arg("lr"));
  py::class_<optim::StepLR, LRSchedule, std::shared_ptr<optim::StepLR>>(optim, "StepSchedule")
      .def(py::init<double, int64_t, double>(), py::arg("base_lr"), py::arg("step_size"), py::arg("gamma") = 0.1);
  py::class_<optim::CosineAnnealing, LRSchedule, std::shared_ptr<optim::CosineAnnealing>>(optim, "CosineSchedule")
      .def(py::init<double, int64_t, double>(), py::arg("base_lr"), py::arg("T_max"), py::arg("eta_min") = 0.0);
  py::class_<optim::LinearWarmup, LRSchedule, std::shared_ptr<optim::LinearWarmup>>(optim, "WarmupSchedule")
      .def(py::init([](int64_t steps, std::shared_ptr<LRSchedule> after, double start_factor) {
             return std::make_shared<optim::LinearWarmup>(steps, std::shared_ptr<const LRSchedule>(after), start_factor);
           }),
           py::arg("warmup_steps"), py::arg("after"), py::arg("start_factor") = 0.0);
  py::class_<optim::LambdaLR, LRSchedule, std::shared_ptr<optim::LambdaLR>>(optim, "LambdaSchedule")
      .def(py::init([](py::function f) {
             auto fn = share_with_gil(std::move(f));
             return std::make_shared<optim::LambdaLR>([fn](int64_t t) {
               py::gil_scoped_acquire gil;
               return (*fn)(t).cast<double>();
             });
           }),
           py::arg("lr_at"), "lr_at(t) -> the learning rate at step t.");
  py::class_<optim::Scheduler>(optim, "Scheduler")
      .def(py::init([](Optimizer& opt, std::shared_ptr<LRSchedule> schedule, int64_t t) {
             return std::make_unique<optim::Scheduler>(opt, std::shared_ptr<const LRSchedule>(schedule), t);
           }),
           py::arg("optimizer"), py::arg("schedule"), py::arg("t") = 0, py::keep_alive<1, 2>())
      .def("step", &optim::Scheduler::step)
      .def("set_t", &optim::Scheduler::set_t, py::arg("t"))
      .def_property_readonly("t", &optim::Scheduler::t)
      .def("get_last_lr", [](const optim::Scheduler& s) { return std::vector<double>{s.lr()}; })
      .def("state_dict", &optim::Scheduler::state_dict)
      .def("load_state_dict", &optim::Scheduler::load_state_dict, py::arg("state_dict"));
  optim.def("clip_grad_norm_", &optim::clip_grad_norm, py::arg("parameters"), py::arg("max_norm"),
            py::arg("norm_type") = 2.0, py::arg("error_if_nonfinite") = false,
            "Scales the gradients so their total norm is at most max_norm; returns the norm before clipping.");
  optim.def("grad_norm", &optim::grad_norm, py::arg("parameters"), py::arg("norm_type") = 2.0);
}

void bind_data_io_profiler(py::module_& m) {
  py::module_ data = m.def_submodule("data", "Datasets and the DataLoader.");
  py::class_<Dataset, std::shared_ptr<Dataset>>(data, "Dataset").def("__len__", &Dataset::size);
  py::class_<TensorDataset, Dataset, std::shared_ptr<TensorDataset>>(data, "TensorDataset")
      .def(py::init<Tensor, Tensor>(), py::arg("inputs"), py::arg("targets"))
      .def_property_readonly("inputs", &TensorDataset::inputs)
      .def_property_readonly("targets", &TensorDataset::targets);
  py::class_<DataLoader>(data, "DataLoader", "Batches of a dataset, shuffled by (seed, epoch), built ahead by a thread.")
      .def(py::init([](std::shared_ptr<Dataset> dataset, int64_t batch_size, bool shuffle, uint64_t seed, bool drop_last,
                       int64_t prefetch, int64_t rank, int64_t world_size) {
             DataLoaderOptions o;
             o.batch_size = batch_size;
             o.shuffle = shuffle;
             o.seed = seed;
             o.drop_last = drop_last;
             o.prefetch = prefetch;
             o.rank = rank;
             o.world_size = world_size;
             return std::make_unique<DataLoader>(std::move(dataset), o);
           }),
           py::arg("dataset"), py::arg("batch_size") = 1, py::arg("shuffle") = false, py::arg("seed") = 0,
           py::arg("drop_last") = false, py::arg("prefetch") = 2, py::arg("rank") = 0, py::arg("world_size") = 1)
      .def("__len__", &DataLoader::size)
      .def("set_epoch", &DataLoader::set_epoch, py::arg("epoch"))
      .def_property_readonly("epoch", &DataLoader::current_epoch)
      .def("__iter__", [](DataLoader& loader) {
             auto e = std::make_unique<EpochIterator>();
             e->loader = &loader;
             e->epoch = std::make_unique<DataLoader::Epoch>(loader.epoch(loader.current_epoch()));
             loader.set_epoch(loader.current_epoch() + 1);
             return e;
           }, py::keep_alive<0, 1>());
  py::class_<EpochIterator>(data, "_EpochIterator")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", [](EpochIterator& e) {
        if (!e.epoch) throw py::stop_iteration();  // ended already
        {
          py::gil_scoped_release release;  // waits for the prefetch thread
          if (!e.started) {
            e.it = e.epoch->begin();
            e.started = true;
          } else if (e.it != e.epoch->end()) {
            ++e.it;
          }
        }
        if (e.it == e.epoch->end()) {
          e.epoch.reset();
          throw py::stop_iteration();
        }
        return py::make_tuple(e.it->inputs, e.it->targets);
      });
  data.def("load_fashion_mnist", [](const std::string& split, const std::string& dir) {
             FashionMnist f;
             {
               py::gil_scoped_release release;
               f = load_fashion_mnist(split, dir);
             }
             return py::make_tuple(f.images, f.labels);
           },
           py::arg("split") = "train", py::arg("dir") = "",
           "(images float32 [N, 1, 28, 28] in [0, 1], labels int64 [N]) from Debian's dataset-fashion-mnist (or dir).");

  m.def("save_safetensors", [](const StateDict& tensors, const std::string& path,
                               const std::map<std::string, std::string>& metadata) {
          py::gil_scoped_release release;
          save_safetensors(path, tensors, metadata);
        },
        py::arg("tensors"), py::arg("path"), py::arg("metadata") = std::map<std::string, std::string>{},
        "Writes a dict of tensors in the safetensors format.");
  m.def("load_safetensors", [](const std::string& path) {
          SafetensorsFile f;
          {
            py::gil_scoped_release release;
            f = load_safetensors(path);
          }
          return py::make_tuple(state_dict_to_python(f.tensors), f.metadata);
        },
        py::arg("path"), "(tensors, metadata) read from a safetensors file.");

  py::module_ prof = m.def_submodule("profiler", "The op profiler.");
  py::class_<profiler::OpStats>(prof, "OpStats")
      .def_readonly("name", &profiler::OpStats::name)
      .def_readonly("input_shapes", &profiler::OpStats::input_shapes)
      .def_readonly("count", &profiler::OpStats::count)
      .def_readonly("self_ns", &profiler::OpStats::self_ns)
      .def_readonly("total_ns", &profiler::OpStats::total_ns)
      .def_readonly("flops", &profiler::OpStats::flops)
      .def("__repr__", [](const profiler::OpStats& s) {
        return "OpStats(" + s.name + ", count=" + std::to_string(s.count) + ", self_ns=" + std::to_string(s.self_ns) + ")";
      });
  py::class_<profiler::KeyAverages>(prof, "KeyAverages")
      .def("table", &profiler::KeyAverages::table, py::arg("sort_by") = "self_cpu_time_total", py::arg("row_limit") = 0)
      .def("rows", &profiler::KeyAverages::rows)
      .def("__str__", [](const profiler::KeyAverages& k) { return k.table(); });
  py::class_<profiler::Profile>(prof, "Profile", "Records every op while it runs (one at a time).")
      .def(py::init<>())
      .def("stop", &profiler::Profile::stop)
      .def_property_readonly("running", &profiler::Profile::running)
      .def_property_readonly("duration_ns", &profiler::Profile::duration_ns)
      .def("num_events", [](const profiler::Profile& p) { return p.events().size(); })
      .def("key_averages", &profiler::Profile::key_averages, py::arg("group_by_input_shape") = false)
      .def("export_chrome_trace", &profiler::Profile::export_chrome_trace, py::arg("path"));
  py::class_<PythonRange>(prof, "record_function", "with record_function('name'): a named range in the profile.")
      .def(py::init([](std::string name) { return std::make_unique<PythonRange>(PythonRange{std::move(name), nullptr}); }),
           py::arg("name"))
      .def("__enter__", [](PythonRange& r) {
        r.scope = std::make_unique<profiler::RecordScope>([&r](profiler::EventInfo& info) {
          info.name = r.name;
          info.kind = profiler::EventKind::User;
        });
        return &r;
      }, py::return_value_policy::reference)
      .def("__exit__", [](PythonRange& r, const py::args&) { r.scope.reset(); });

  m.def("set_num_threads", &set_num_threads, py::arg("n"), "Threads the kernels use (at least 1; the default is the number of cores).");
  m.def("get_num_threads", &num_threads);
  py::module_ memory = m.def_submodule("memory", "The CPU allocator's counters.");
  memory.def("stats", [] {
    const AllocatorStats s = cpu_allocator().stats();
    py::dict d;
    d["current_bytes"] = s.current_bytes;
    d["peak_bytes"] = s.peak_bytes;
    d["allocations"] = s.allocations;
    d["cached_bytes"] = s.cached_bytes;
    return d;
  });
  memory.def("reset_peak", [] { cpu_allocator().reset_peak(); });
}

}  // namespace tg::python
