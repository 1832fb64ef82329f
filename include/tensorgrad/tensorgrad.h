#pragma once
// The whole user API: #include <tensorgrad/tensorgrad.h>
#include <tensorgrad/base/error.h>
#include <tensorgrad/core/allocator.h>
#include <tensorgrad/core/dtype.h>
#include <tensorgrad/core/graph.h>
#include <tensorgrad/core/random.h>
#include <tensorgrad/core/tensor.h>
#include <tensorgrad/ops/creation.h>
#include <tensorgrad/ops/elementwise.h>
#include <tensorgrad/ops/linalg.h>
#include <tensorgrad/ops/movement.h>
#include <tensorgrad/ops/reduce.h>
#include <tensorgrad/ops/softmax.h>
#include <tensorgrad/ops/view.h>
#include <tensorgrad/autograd/engine.h>
#include <tensorgrad/autograd/gradcheck.h>
