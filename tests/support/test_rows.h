// Qt Test data rows that several suites list: a column of names (a model, a case) with one
// row each, and the Hugging Face fixture families under tests/data/models. Qt Core only.
#pragma once
#include <QString>
#include <QTest>

#include <initializer_list>
#include <utility>

namespace testrows {

// The fixture families tests/gen/make_fixtures.py writes: a tiny model each, with
// config.json, weights and transformers' reference outputs (ref.safetensors).
inline constexpr const char* kFixtureFamilies[] = {"gpt2",   "gpt_neox", "gpt_neox_seq", "llama2",
                                                   "llama3", "mistral",  "qwen2",        "qwen3"};

// A QString column `column` with one row per {row name, value}.
inline void addStringRows(const char* column, std::initializer_list<std::pair<const char*, const char*>> rows) {
    QTest::addColumn<QString>(column);
    for (const auto& [name, value] : rows) QTest::newRow(name) << QString(value);
}

// A QString column `column` with one row per fixture family, named after it.
inline void addFamilyRows(const char* column) {
    QTest::addColumn<QString>(column);
    for (const char* f : kFixtureFamilies) QTest::newRow(f) << QString(f);
}

}  // namespace testrows
