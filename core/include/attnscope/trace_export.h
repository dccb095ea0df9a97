// Writes a trace as a safetensors file for other tools (Python, the GPU checks):
// input_ids [T] I64, logits [T,V] F32, hidden_states [L+1,T,D] F32 (index 0 = input of
// layer 0, l+1 = output of layer l, all before the final norm), and attentions
// [L,H,T,T] F32 when requested.
#pragma once
#include <string>

namespace attnscope {

class Trace;

struct TraceExportOptions {
    bool attentions = true;  // O(L*H*T^2): only for short prompts
};

void exportTrace(const Trace& trace, const std::string& path, const TraceExportOptions& options);

}  // namespace attnscope
