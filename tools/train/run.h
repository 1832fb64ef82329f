#pragma once
// tg_train's run loop: one process, or synchronous data parallel (--dist ddp) when given a communicator.
#include <memory>

#include <tensorgrad/tensorgrad.h>

#include "flags.h"

namespace CLI {
class App;
}

namespace tg::train {

int run(const CLI::App& app, Flags flags, const std::shared_ptr<dist::Communicator>& comm);

}  // namespace tg::train
