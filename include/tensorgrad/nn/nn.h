#pragma once
// The nn layer: modules, layers and initialisers; CTC decoding and error rates.
#include <tensorgrad/nn/activation.h>
#include <tensorgrad/nn/attention.h>
#include <tensorgrad/nn/checkpoint.h>
#include <tensorgrad/nn/conformer.h>
#include <tensorgrad/nn/conformer_encoder.h>
#include <tensorgrad/nn/container.h>
#include <tensorgrad/nn/ctc_decoding.h>
#include <tensorgrad/nn/conv.h>
#include <tensorgrad/nn/dropout.h>
#include <tensorgrad/nn/error_rate.h>
#include <tensorgrad/nn/init.h>
#include <tensorgrad/nn/linear.h>
#include <tensorgrad/nn/module.h>
#include <tensorgrad/nn/normalization.h>
#include <tensorgrad/nn/pool.h>
#include <tensorgrad/nn/transformer.h>
