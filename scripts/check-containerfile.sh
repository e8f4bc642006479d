#!/usr/bin/env bash
# Checks the Containerfile where no container engine runs: the build stage's RUN steps are run in
# a clean copy of the committed tree (as COPY . . would see it), then every shared library the
# built binaries load must come from a package the runtime stage installs (or from the base
# image's essential set). Prints what it checked; exits non-zero on the first failure.
#   usage: scripts/check-containerfile.sh [WORKDIR]   (default: a temporary folder, removed after)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
file=Containerfile
work=${1:-$(mktemp -d /tmp/netobs-containerfile.XXXXXX)}
[ -n "${1:-}" ] || trap 'rm -rf "$work"' EXIT
die() { echo "check-containerfile: $*" >&2; exit 1; }

# The stages: RUN lines (continuations joined) between each FROM and the next.
stage_runs() {   # $1: 1 = build stage, 2 = runtime stage
    awk -v want="$1" '
        /^FROM / { stage++ }
        stage == want && /^RUN / { cmd = substr($0, 5); collecting = 1 }
        stage == want && collecting && !/^RUN / { cmd = cmd " " $0 }
        collecting && !/\\$/ { gsub(/\\ +/, " ", cmd); print cmd; collecting = 0; cmd = "" }
    ' "$file"
}

echo "check-containerfile: the build stage in a clean copy of HEAD ($work)"
git clone -q --no-hardlinks . "$work/src"   # what COPY . . sees of a clean checkout, .git included
while IFS= read -r step; do
    # The package steps need the network and root: this machine has the packages (setup.sh).
    case "$step" in apt-get*) echo "  (packages) $step" | cut -c1-110; continue ;; esac
    echo "  RUN $step" | cut -c1-110
    (cd "$work/src" && bash -euo pipefail -c "${step//\/out/$work/out}")
done < <(stage_runs 1)

for bin in netobs-agent netobs; do
    [ -x "$work/out/$bin" ] || die "the build stage made no $bin"
    "$work/out/$bin" --version >/dev/null || die "$bin --version failed"
done

echo "check-containerfile: the runtime stage provides every library the binaries load"
runtime_packages=$(stage_runs 2 | grep -o 'install -y -qq --no-install-recommends [^&]*' | cut -d' ' -f5-)
essential="libc6 libgcc-s1 libstdc++6"   # in debian:bookworm-slim itself
for bin in netobs-agent netobs; do
    while read -r lib; do
        pkg=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -1 | cut -d: -f1 || true)
        [ -n "$pkg" ] || pkg=$(dpkg -S "$lib" 2>/dev/null | head -1 | cut -d: -f1 || true)
        [ -n "$pkg" ] || die "$bin loads $lib, which no Debian package provides (a Swift runtime library? build with --static-swift-stdlib)"
        case " $runtime_packages $essential " in
            *" $pkg "*) echo "  $bin: $lib ($pkg)" ;;
            *) die "$bin loads $lib from package $pkg, which the runtime stage does not install" ;;
        esac
    done < <(ldd "$work/out/$bin" | awk '/=>/ {print $3}' | grep -v '^$')
done
echo "check-containerfile: ok"
