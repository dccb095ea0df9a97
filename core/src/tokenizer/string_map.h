// Hash containers used by the tokenizers: string keys looked up by string_view, and a
// flat open-addressing map for (id, id) pairs, the hot path of BPE merging.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace attnscope::tok {

struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// string -> int32 with string_view lookups, open addressing over a flat slot array: a
// vocabulary lookup costs one or two cache misses instead of a node chase.
class StringIndex {
public:
    void reserve(size_t n) {
        m_entries.reserve(n);
        rehash(n);
    }
    // Adds key -> value unless key is present; returns whether it was added.
    bool insert(std::string key, int32_t value) {
        if ((m_entries.size() + 1) * 2 > m_slots.size()) rehash(m_entries.size() + 1);
        const uint64_t h = hashOf(key);
        size_t i = probe(key, h);
        if (m_slots[i] != 0) return false;
        m_entries.push_back({std::move(key), value});
        m_slots[i] = (h & kHashMask) | m_entries.size();
        return true;
    }
    const int32_t* find(std::string_view key) const {
        if (m_slots.empty()) return nullptr;
        const uint64_t slot = m_slots[probe(key, hashOf(key))];
        return slot ? &m_entries[(slot & ~kHashMask) - 1].value : nullptr;
    }
    size_t size() const { return m_entries.size(); }
    template <typename F>
    void forEach(F&& f) const {
        for (const Entry& e : m_entries) f(e.key, e.value);
    }

private:
    // A slot holds the upper 32 hash bits and entry index + 1 (0 = empty).
    static constexpr uint64_t kHashMask = 0xFFFFFFFF00000000ull;
    struct Entry {
        std::string key;
        int32_t value;
    };
    static uint64_t hashOf(std::string_view s) { return std::hash<std::string_view>{}(s); }
    size_t probe(std::string_view key, uint64_t h) const {
        const size_t mask = m_slots.size() - 1;
        for (size_t i = size_t(h) & mask;; i = (i + 1) & mask) {
            const uint64_t slot = m_slots[i];
            if (slot == 0) return i;
            if ((slot & kHashMask) == (h & kHashMask) && m_entries[(slot & ~kHashMask) - 1].key == key)
                return i;
        }
    }
    void rehash(size_t n) {
        size_t cap = 16;
        while (cap < n * 2) cap <<= 1;
        if (cap <= m_slots.size()) return;
        m_slots.assign(cap, 0);
        for (size_t e = 0; e < m_entries.size(); ++e) {
            const uint64_t h = hashOf(m_entries[e].key);
            m_slots[probe(m_entries[e].key, h)] = (h & kHashMask) | (e + 1);
        }
    }
    std::vector<Entry> m_entries;
    std::vector<uint64_t> m_slots;
};

// uint64 key -> uint64 value; the all-ones key is reserved as "empty".
class PairMap {
public:
    void reserve(size_t n) {
        size_t cap = 16;
        while (cap < n * 2) cap <<= 1;
        m_slots.assign(cap, Slot{kEmpty, 0});
        m_size = 0;
    }
    // Inserts or overwrites.
    void set(uint64_t key, uint64_t value) {
        if ((m_size + 1) * 2 > m_slots.size()) grow();
        Slot& s = m_slots[find(key)];
        if (s.key == kEmpty) ++m_size;
        s = {key, value};
    }
    const uint64_t* get(uint64_t key) const {
        if (m_slots.empty()) return nullptr;
        const Slot& s = m_slots[find(key)];
        return s.key == key ? &s.value : nullptr;
    }
    static uint64_t pairKey(int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }

private:
    static constexpr uint64_t kEmpty = ~uint64_t(0);
    struct Slot { uint64_t key; uint64_t value; };
    size_t find(uint64_t key) const {
        uint64_t h = key * 0x9E3779B97F4A7C15ull;  // Fibonacci hashing spreads the id pairs
        const size_t mask = m_slots.size() - 1;
        for (size_t i = size_t(h >> 20) & mask;; i = (i + 1) & mask)
            if (m_slots[i].key == key || m_slots[i].key == kEmpty) return i;
    }
    void grow() {
        std::vector<Slot> old = std::move(m_slots);
        reserve(old.empty() ? 8 : old.size());
        for (const Slot& s : old)
            if (s.key != kEmpty) set(s.key, s.value);
    }
    std::vector<Slot> m_slots;
    size_t m_size = 0;
};

}  // namespace attnscope::tok
