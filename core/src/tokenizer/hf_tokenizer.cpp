// Hugging Face tokenizer.json: added tokens -> normalizer -> pre-tokenizer -> BPE model
// -> post-processor, and the decoder chain for the way back.
#include <algorithm>
#include <filesystem>

#include "attnscope/error.h"
#include "attnscope/tokenizer.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/decoders.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/post_processors.h"
#include "tokenizer/pre_tokenizers.h"
#include "tokenizer/utf8.h"

namespace attnscope {

namespace {

using namespace tok;

constexpr size_t kMaxJsonBytes = size_t(256) << 20;  // the largest real files are ~35 MB
constexpr size_t kMaxConfigBytes = size_t(64) << 20;

class HfTokenizer final : public Tokenizer {
public:
    HfTokenizer(const std::string& jsonPath, const std::string& configPath);

    std::vector<int32_t> encode(std::string_view text, bool addSpecial) const override;
    std::string decode(const std::vector<int32_t>& ids) const override;
    std::string piece(int32_t id) const override {
        return id >= 0 && size_t(id) < m_pieces.size() ? m_pieces[size_t(id)] : std::string();
    }
    int32_t vocabSize() const override { return int32_t(m_pieces.size()); }
    int32_t bosId() const override { return m_bos; }
    int32_t eosId() const override { return m_eos; }
    bool isSpecial(int32_t id) const override {
        return id >= 0 && size_t(id) < m_special.size() && m_special[size_t(id)];
    }

private:
    void loadConfig(const std::string& path);
    int32_t idOf(const std::string& token) const;
    void encodeSegment(std::string_view text, bool atStart, std::vector<int32_t>& ids) const;

    std::unique_ptr<BpeModel> m_model;
    std::unique_ptr<Normalizer> m_normalizer;
    std::unique_ptr<PreTokenizer> m_pre;
    std::unique_ptr<Decoder> m_decoder;
    AddedVocabulary m_added;
    SpecialTemplate m_template;
    std::vector<std::string> m_pieces;
    std::vector<char> m_special;
    int32_t m_bos = -1, m_eos = -1;
    bool m_addBos = false, m_addEos = false;
};

HfTokenizer::HfTokenizer(const std::string& jsonPath, const std::string& configPath) {
    const JsonCtx ctx{jsonPath, 0};
    const json j = parseJson(readFileLimited(jsonPath, kMaxJsonBytes), jsonPath);
    if (!j.is_object()) badInput(ctx, "top level must be an object");

    m_model = std::make_unique<BpeModel>(ctx, field(ctx, j, "model"));
    static const json noAdded = json::array();
    const json& added = j.contains("added_tokens") ? j.at("added_tokens") : noAdded;
    // Added ids follow the model's; bounded so that a hostile id cannot blow up the tables.
    const int64_t maxAddedId = int64_t(m_model->tokens().size()) +
                               2 * int64_t(added.is_array() ? added.size() : 0) + 1024;
    m_added.load(ctx, added, std::min(maxAddedId, kMaxTokenId));

    m_pieces = m_model->tokens();
    for (const AddedToken& t : m_added.tokens())
        if (size_t(t.id) >= m_pieces.size()) m_pieces.resize(size_t(t.id) + 1);
    m_special.assign(m_pieces.size(), 0);
    for (const AddedToken& t : m_added.tokens()) {
        m_pieces[size_t(t.id)] = t.content;
        if (t.special) m_special[size_t(t.id)] = 1;
    }

    const auto part = [&](const char* key) -> const json& {
        static const json null;
        return j.contains(key) ? j.at(key) : null;
    };
    m_normalizer = makeNormalizer(ctx, part("normalizer"));
    m_pre = makePreTokenizer(ctx, part("pre_tokenizer"));
    m_decoder = makeDecoder(ctx, part("decoder"));
    m_template = parsePostProcessor(ctx, part("post_processor"), int64_t(m_pieces.size()));
    m_added.prepare(m_normalizer.get());

    if (!m_template.before.empty()) m_bos = m_template.before.front();
    if (!m_template.after.empty()) m_eos = m_template.after.front();
    if (!configPath.empty()) loadConfig(configPath);
}

int32_t HfTokenizer::idOf(const std::string& token) const {
    for (const AddedToken& t : m_added.tokens())
        if (t.content == token) return t.id;
    const auto id = m_model->find(token);
    return id ? *id : -1;
}

void HfTokenizer::loadConfig(const std::string& path) {
    // A missing tokenizer_config.json is common (callers pass the conventional name);
    // a present but malformed one is an error.
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return;
    const JsonCtx ctx{path, 0};
    const json c = parseJson(readFileLimited(path, kMaxConfigBytes), path);
    if (!c.is_object()) badInput(ctx, "top level must be an object");
    const auto tokenName = [&](const char* key) -> std::string {
        if (!hasField(c, key)) return {};
        const json& v = c.at(key);
        if (v.is_string()) return v.get<std::string>();
        if (v.is_object()) return stringField(ctx, v, "content");
        badInput(ctx, std::string("\"") + key + "\" must be a string or an object with \"content\"");
    };
    if (const std::string b = tokenName("bos_token"); !b.empty() && idOf(b) >= 0) m_bos = idOf(b);
    if (const std::string e = tokenName("eos_token"); !e.empty() && idOf(e) >= 0) m_eos = idOf(e);
    m_addBos = boolOr(ctx, c, "add_bos_token", false);
    m_addEos = boolOr(ctx, c, "add_eos_token", false);
}

void HfTokenizer::encodeSegment(std::string_view text, bool atStart, std::vector<int32_t>& ids) const {
    std::string norm(text);
    if (m_normalizer) m_normalizer->normalize(norm);
    for (const Segment& s : m_added.normalizedMatcher().split(norm, m_added.tokens())) {
        if (s.id >= 0) {
            ids.push_back(s.id);
            continue;
        }
        std::vector<Piece> pieces{{norm.substr(s.begin, s.end - s.begin), atStart && s.begin == 0}};
        if (m_pre) m_pre->apply(pieces);
        for (const Piece& p : pieces) m_model->tokenize(p.text, ids);
    }
}

std::vector<int32_t> HfTokenizer::encode(std::string_view text, bool addSpecial) const {
    // Rust strings are valid UTF-8 by construction; we replace invalid bytes by U+FFFD.
    const std::string s = sanitizeUtf8(text);
    std::vector<int32_t> ids;
    ids.reserve(s.size() / 3 + 4);
    for (const Segment& seg : m_added.rawMatcher().split(s, m_added.tokens())) {
        if (seg.id >= 0) ids.push_back(seg.id);
        else encodeSegment(std::string_view(s).substr(seg.begin, seg.end - seg.begin), seg.begin == 0, ids);
    }
    if (!addSpecial) return ids;
    if (m_template.present) {
        ids.insert(ids.begin(), m_template.before.begin(), m_template.before.end());
        ids.insert(ids.end(), m_template.after.begin(), m_template.after.end());
    } else {
        // No post-processor placing special tokens: follow tokenizer_config.json, as
        // transformers does for slow tokenizers.
        if (m_addBos && m_bos >= 0) ids.insert(ids.begin(), m_bos);
        if (m_addEos && m_eos >= 0) ids.push_back(m_eos);
    }
    return ids;
}

std::string HfTokenizer::decode(const std::vector<int32_t>& ids) const {
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (int32_t id : ids)
        if (id >= 0 && size_t(id) < m_pieces.size() && !m_pieces[size_t(id)].empty())
            tokens.push_back(m_pieces[size_t(id)]);  // unknown ids are skipped, as in HF
    std::string out;
    if (m_decoder) {
        m_decoder->decode(tokens);
        for (const std::string& t : tokens) out += t;
    } else {
        for (size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
    }
    return out;
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::fromHuggingFace(const std::string& tokenizerJsonPath,
                                                      const std::string& tokenizerConfigPath) {
    try {
        return std::make_unique<HfTokenizer>(tokenizerJsonPath, tokenizerConfigPath);
    } catch (const nlohmann::json::exception& e) {
        // Any type mismatch our checks did not anticipate still ends as a clean error.
        fail(ErrorKind::BadInput, tokenizerJsonPath + ": malformed tokenizer (" + e.what() + ")");
    } catch (const std::bad_alloc&) {
        fail(ErrorKind::OutOfMemory, tokenizerJsonPath + ": out of memory while loading");
    }
}

}  // namespace attnscope
