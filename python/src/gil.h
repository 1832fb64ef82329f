#pragma once
// Python objects kept by C++ callbacks (hooks, custom functions, schedules) may be released on a thread
// that does not hold the GIL (a backward pass runs with it released); this holder takes the GIL to drop them.
#include <memory>

#include <pybind11/pybind11.h>

namespace tg::python {

template <class T>
std::shared_ptr<T> share_with_gil(T object) {
  return std::shared_ptr<T>(new T(std::move(object)), [](T* p) {
    pybind11::gil_scoped_acquire gil;
    delete p;
  });
}

}  // namespace tg::python
