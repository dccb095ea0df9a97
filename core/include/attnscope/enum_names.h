// One name table per enum, read both ways: enumName() for output and parseEnum() for input, whose
// error lists the accepted names. The first row of a value is its canonical spelling; later rows
// of the same value are accepted aliases. Torch-free and Qt-free.
#pragma once
#include <cstddef>
#include <string>

#include "attnscope/error.h"

namespace attnscope {

template <class E>
struct EnumName {
    E value;
    const char* name;
};

template <class E, std::size_t N>
const char* enumName(const EnumName<E> (&table)[N], E value) {
    for (const EnumName<E>& e : table)
        if (e.value == value) return e.name;
    return "?";
}

// Throws Error(BadInput) "unknown <what> '<text>' (a, b, c)" naming the canonical spellings.
template <class E, std::size_t N>
E parseEnum(const EnumName<E> (&table)[N], const std::string& text, const std::string& what) {
    std::string known;
    for (std::size_t i = 0; i < N; ++i) {
        if (text == table[i].name) return table[i].value;
        bool first = true;
        for (std::size_t j = 0; j < i; ++j) first = first && table[j].value != table[i].value;
        if (first) known += (known.empty() ? "" : ", ") + std::string(table[i].name);
    }
    fail(ErrorKind::BadInput, "unknown " + what + " '" + text + "' (" + known + ")");
}

}  // namespace attnscope
