#include "attnscope/error.h"

namespace attnscope {

const char* errorKindName(ErrorKind kind) {
    switch (kind) {
    case ErrorKind::BadInput: return "bad input";
    case ErrorKind::NotFound: return "not found";
    case ErrorKind::Unsupported: return "unsupported";
    case ErrorKind::OutOfMemory: return "out of memory";
    case ErrorKind::Cancelled: return "cancelled";
    case ErrorKind::Internal: return "internal error";
    }
    return "error";
}

}  // namespace attnscope
