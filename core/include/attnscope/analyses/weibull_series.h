// Weibull fits over a checkpoint series (issue 7): k and λ of every matrix at every
// training step, for the built-in model's series.json or directories the user picks.
// Plain structs (widgets draw them) and core functions (the worker calls them).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "attnscope/job.h"
#include "attnscope/analyses/weibull.h"

namespace attnscope {

struct WeibullCheckpoint {
    int64_t step = 0;
    std::string path;  // model directory
};

struct WeibullSeriesPoint {
    WeibullCheckpoint checkpoint;
    std::vector<WeibullMatrixFit> fits;
};

// The checkpoints `dir` stands for, ordered by step: a series root (series.json, paths
// resolved against it); a model directory that is a checkpoint of a series
// (root/checkpoints/step-N: the whole series); a model directory alone; or a directory
// whose subdirectories are model directories. Throws Error(BadInput/NotFound).
std::vector<WeibullCheckpoint> checkpointsIn(const std::string& dir);

// Checkpoints for model directories picked one by one: the step from train_state.json's
// "step", else the number ending the directory name (step-600, checkpoint-600), else the
// position in `dirs`; sorted by step.
std::vector<WeibullCheckpoint> checkpointsFromDirectories(const std::vector<std::string>& dirs);

// Opens each checkpoint on the CPU and fits every matrix (step 0 counts as the
// initialisation for the classifier). progress gets the fraction done; a stop request
// throws Error(Cancelled).
std::vector<WeibullSeriesPoint> fitWeibullSeries(const std::vector<WeibullCheckpoint>& checkpoints,
                                                 const WeibullParams& params,
                                                 const JobControl& job = {});

}  // namespace attnscope
