#include "arch/arch_registry.h"

namespace attnscope::core {

// Defined in the family files, beside their specs' names.
extern const ArchEntry kLlamaArch;
extern const ArchEntry kMistralArch;
extern const ArchEntry kQwen2Arch;
extern const ArchEntry kQwen3Arch;
extern const ArchEntry kGpt2Arch;
extern const ArchEntry kGptNeoXArch;

namespace {
const ArchEntry* const kLoaders[] = {&kLlamaArch, &kMistralArch, &kQwen2Arch,
                                     &kQwen3Arch, &kGpt2Arch,    &kGptNeoXArch};
}  // namespace

const ArchEntry* findArch(std::string_view name) {
    for (const ArchEntry* e : kLoaders)
        if (name == e->name) return e;
    return nullptr;
}

}  // namespace attnscope::core
