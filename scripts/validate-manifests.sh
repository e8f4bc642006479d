#!/usr/bin/env bash
# Validates manifests/*.yaml against the Kubernetes API schemas with kubernetes-validate
# (PyPI), installed once into a venv under ~/.cache. Strict: unknown fields are errors.
set -euo pipefail
cd "$(dirname "$0")/.."

version=1.37.0                      # kubernetes-validate, pinned
k8s_version="${NETOBS_K8S_VERSION:-1.31}"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/netobs/kubernetes-validate-$version"

if [ ! -x "$venv/bin/kubernetes-validate" ]; then
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$version"
fi

"$venv/bin/kubernetes-validate" --strict --kubernetes-version "$k8s_version" manifests/*.yaml
echo "validate-manifests.sh: manifests/*.yaml valid for Kubernetes $k8s_version"
