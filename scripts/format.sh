#!/usr/bin/env bash
# Checks (or fixes) the C++ formatting of the lines changed since a base revision, with the
# pinned .clang-format at the repository root. The existing tree is not reformatted: only the
# lines a change touches are held to the style.
#
#   scripts/format.sh [--fix] [BASE] [-- PATH...]
#
#   BASE     the revision to compare against: changed lines are those that differ between
#            the merge base of BASE and HEAD, and the working tree (committed, staged and
#            unstaged changes alike). Default: origin/main, or HEAD~1 where there is none.
#   --fix    rewrite the misformatted changed lines in place (default: only report them).
#   PATH...  limit the check to these files or folders.
#
# New files that git does not track yet (and does not ignore) are checked whole.
# Exit status: 0 when the changed lines are formatted (or were fixed with --fix, or
# clang-format is not installed: a note says so); 1 when some are not, with the files
# listed and the diff that --fix would apply; 2 for a usage error or an unknown BASE.
# CLANG_FORMAT may name the binary (default: clang-format, then clang-format-NN).
set -euo pipefail

readonly kPinnedMajor=14  # the version .clang-format was tuned with
readonly kExtensions="c,cc,cpp,cxx,h,hh,hpp,hxx"

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit "${1:-2}"
}

fix=0
base=""
paths=()
while (($#)); do
    case "$1" in
    --fix) fix=1 ;;
    -h | --help) usage 0 ;;
    --) shift; paths=("$@"); break ;;
    -*) echo "format.sh: unknown option $1" >&2; usage 2 ;;
    *)
        if [[ -n "$base" ]]; then echo "format.sh: more than one BASE given" >&2; usage 2; fi
        base="$1"
        ;;
    esac
    shift
done

cd "$(git rev-parse --show-toplevel)"

find_clang_format() {
    if [[ -n "${CLANG_FORMAT:-}" ]]; then
        command -v "$CLANG_FORMAT" && return
        return 1
    fi
    command -v clang-format && return
    local v
    for v in 20 19 18 17 16 15 14; do command -v "clang-format-$v" && return; done
    return 1
}

if ! cf="$(find_clang_format)" || ! command -v git-clang-format >/dev/null; then
    cat <<'EOF'
format.sh: clang-format (with its git-clang-format helper) is not installed, so formatting
was NOT checked. Install it and run this script again:
    Debian/Ubuntu:  sudo apt-get install clang-format
    Fedora:         sudo dnf install clang-tools-extra
    macOS:          brew install clang-format
    pip:            pip install clang-format
EOF
    exit 0
fi
major="$("$cf" --version | sed -n 's/.*version \([0-9]*\).*/\1/p' | head -n1)"
if [[ "$major" != "$kPinnedMajor" ]]; then
    echo "format.sh: note: $cf is version ${major:-unknown}; .clang-format was tuned with" \
         "clang-format $kPinnedMajor, so a few lines may be formatted differently." >&2
fi

if [[ -z "$base" ]]; then
    if git rev-parse --verify --quiet origin/main^{commit} >/dev/null; then
        base=origin/main
    elif git rev-parse --verify --quiet HEAD~1^{commit} >/dev/null; then
        base=HEAD~1
    else
        base=HEAD
    fi
fi
if ! git rev-parse --verify --quiet "$base^{commit}" >/dev/null; then
    echo "format.sh: '$base' is not a revision" >&2
    exit 2
fi
# Against the fork point, so that commits made on the base since are not counted as ours.
fork="$(git merge-base "$base" HEAD 2>/dev/null || git rev-parse "$base^{commit}")"

# 1. Changed lines of tracked files (git clang-format compares the working tree to $fork).
gcf=(git -c color.ui=never clang-format --binary "$cf" --extensions "$kExtensions" --style file)
bad_files=()
if ((fix)); then
    # --force: the formatted text is computed from the working tree's own contents, so files
    # with unstaged changes are safe to rewrite.
    out="$("${gcf[@]}" --force "$fork" -- "${paths[@]}" 2>&1)" || true
    while IFS= read -r f; do [[ -n "$f" ]] && bad_files+=("$f"); done \
        < <(sed -n 's/^    \(.*\)$/\1/p' <<<"$out")
else
    diff="$("${gcf[@]}" --diff "$fork" -- "${paths[@]}" 2>&1)" || true
    if grep -q '^diff --git ' <<<"$diff"; then
        while IFS= read -r f; do bad_files+=("$f"); done \
            < <(sed -n 's|^diff --git a/\(.*\) b/.*$|\1|p' <<<"$diff")
    elif ! grep -qE '^(no modified files to format|clang-format did not modify any files)$' <<<"$diff" &&
        [[ -n "$diff" ]]; then
        echo "format.sh: git clang-format failed:" >&2
        echo "$diff" >&2
        exit 2
    fi
fi

# 2. New files git does not track yet: every line is changed.
untracked=()
while IFS= read -r -d '' f; do
    case "${f##*.}" in c | cc | cpp | cxx | h | hh | hpp | hxx) untracked+=("$f") ;; esac
done < <(git ls-files -z --others --exclude-standard -- "${paths[@]}")
new_diff=""
for f in "${untracked[@]}"; do
    if ! formatted="$("$cf" --style=file --assume-filename="$f" <"$f")"; then
        echo "format.sh: $cf failed on $f" >&2
        exit 2
    fi
    if [[ "$formatted" != "$(cat "$f")" ]]; then
        bad_files+=("$f")
        if ((fix)); then
            "$cf" --style=file -i "$f"
        else
            new_diff+="$(diff -u --label "a/$f" --label "b/$f" "$f" <(printf '%s\n' "$formatted") || true)"$'\n'
        fi
    fi
done

if ((${#bad_files[@]} == 0)); then
    echo "format.sh: the lines changed since $base are formatted."
    exit 0
fi
if ((fix)); then
    echo "format.sh: reformatted the changed lines of:"
    printf '    %s\n' "${bad_files[@]}"
    exit 0
fi
echo "format.sh: lines changed since $base are not formatted in:"
printf '    %s\n' "${bad_files[@]}"
echo
[[ -n "${diff:-}" ]] && grep -q '^diff --git ' <<<"$diff" && echo "$diff"
[[ -n "$new_diff" ]] && printf '%s' "$new_diff"
echo
echo "Run 'scripts/format.sh --fix $base${paths[*]:+ -- ${paths[*]}}' to apply these changes."
exit 1
