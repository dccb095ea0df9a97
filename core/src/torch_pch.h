// Precompiled header for every torch translation unit of attnscope_core.
#pragma once
#include <ATen/ATen.h>
#include <torch/torch.h>
