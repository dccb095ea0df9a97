// Typed errors of the core. Every failure that a user can cause (bad files, bad
// prompts, out of memory, cancellation) is one of these; the CLI maps kinds to exit
// codes and the GUI shows the message.
#pragma once
#include <stdexcept>
#include <string>

namespace attnscope {

enum class ErrorKind {
    BadInput,     // malformed or hostile file, invalid argument, prompt too long
    NotFound,     // file or tensor absent
    Unsupported,  // valid input we do not handle (pickle checkpoints, unknown arch)
    OutOfMemory,  // host or device allocation failed
    Cancelled,    // a stop was requested
    Internal,     // a bug on our side
};

const char* errorKindName(ErrorKind kind);

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message)
        : std::runtime_error(message), m_kind(kind) {}
    ErrorKind kind() const { return m_kind; }

private:
    ErrorKind m_kind;
};

[[noreturn]] inline void fail(ErrorKind kind, const std::string& message) {
    throw Error(kind, message);
}

}  // namespace attnscope
