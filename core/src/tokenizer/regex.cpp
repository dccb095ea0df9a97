#include "tokenizer/regex.h"

#include <pcre2.h>

#include <algorithm>

#include "attnscope/error.h"

namespace attnscope::tok {

struct Regex::Impl {
    pcre2_code* code = nullptr;
    bool jit = false;
    std::string source;
};

Regex::Regex(const std::string& pattern, const std::string& source) : m(std::make_unique<Impl>()) {
    m->source = source;
    int err = 0;
    PCRE2_SIZE errOffset = 0;
    // UCP makes \s, \w, \d and POSIX classes Unicode-aware, as in Oniguruma.
    m->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                            PCRE2_UTF | PCRE2_UCP, &err, &errOffset, nullptr);
    if (!m->code) {
        PCRE2_UCHAR buf[256];
        pcre2_get_error_message(err, buf, sizeof buf);
        fail(ErrorKind::BadInput, source + ": invalid regex at offset " + std::to_string(errOffset) +
                                      ": " + reinterpret_cast<const char*>(buf));
    }
    m->jit = pcre2_jit_compile(m->code, PCRE2_JIT_COMPLETE) == 0;
}

Regex::~Regex() {
    if (m && m->code) pcre2_code_free(m->code);
}

namespace {

struct MatchState {
    pcre2_match_data* data = nullptr;
    pcre2_match_context* ctx = nullptr;
    pcre2_jit_stack* stack = nullptr;
    ~MatchState() {
        if (data) pcre2_match_data_free(data);
        if (ctx) pcre2_match_context_free(ctx);
        if (stack) pcre2_jit_stack_free(stack);
    }
};

}  // namespace

std::vector<std::pair<size_t, size_t>> Regex::findAll(std::string_view subject) const {
    std::vector<std::pair<size_t, size_t>> out;
    MatchState st;
    st.data = pcre2_match_data_create_from_pattern(m->code, nullptr);
    if (!st.data) fail(ErrorKind::OutOfMemory, m->source + ": cannot allocate regex match data");
    const auto* subj = reinterpret_cast<PCRE2_SPTR>(subject.data());
    size_t pos = 0;
    // The subject was validated by the caller: skip PCRE2's per-call UTF check, which
    // would otherwise rescan the rest of the text at every match (quadratic).
    const uint32_t opts = PCRE2_NO_UTF_CHECK;
    while (pos <= subject.size()) {
        int rc = pcre2_match(m->code, subj, subject.size(), pos, opts, st.data, st.ctx);
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !st.stack) {
            // Long runs can exhaust JIT's default 32 KiB stack; retry with a larger one.
            st.ctx = pcre2_match_context_create(nullptr);
            st.stack = pcre2_jit_stack_create(64 * 1024, 64 * 1024 * 1024, nullptr);
            if (!st.ctx || !st.stack) fail(ErrorKind::OutOfMemory, m->source + ": regex stack");
            pcre2_jit_stack_assign(st.ctx, nullptr, st.stack);
            rc = pcre2_match(m->code, subj, subject.size(), pos, opts, st.data, st.ctx);
        }
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            PCRE2_UCHAR buf[256];
            pcre2_get_error_message(rc, buf, sizeof buf);
            fail(ErrorKind::BadInput, m->source + ": regex matching failed: " +
                                          reinterpret_cast<const char*>(buf));
        }
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(st.data);
        const size_t b = ov[0], e = ov[1];
        if (e > b) {
            out.emplace_back(b, e);
            pos = e;
        } else {
            // Empty match: step over one character so that the scan progresses.
            const size_t at = std::max(b, pos);
            if (at >= subject.size()) break;
            size_t step = 1;
            while (at + step < subject.size() &&
                   (static_cast<unsigned char>(subject[at + step]) & 0xC0) == 0x80)
                ++step;
            pos = at + step;
        }
    }
    return out;
}

}  // namespace attnscope::tok
