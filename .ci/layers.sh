#!/usr/bin/env bash
# The std backend's layers, bottom to top. A module may name only modules at
# or below its own layer: no import circle, no arrow upward (issue 10, see
# docs/ARCHITECTURE.md). Checks every `crate::<module>` path, in code and in
# doc links, of every file under std-backend/src/<layer>/.
set -euo pipefail
cd "$(dirname "$0")/../std-backend/src"
layers=(base sys pipe transport socket api)
rank() {
    local i
    for i in "${!layers[@]}"; do
        [[ ${layers[$i]} == "$1" ]] && { echo "$i"; return; }
    done
    echo -1
}
status=0
for dir in */; do
    dir=${dir%/}
    if [[ $(rank "$dir") -lt 0 ]]; then
        echo "layers: std-backend/src/$dir is not a known layer (${layers[*]})"
        status=1
    fi
done
for f in *.rs; do
    [[ $f == lib.rs ]] || { echo "layers: std-backend/src/$f sits outside every layer"; status=1; }
done
for layer in "${layers[@]}"; do
    mine=$(rank "$layer")
    while IFS= read -r hit; do
        file=${hit%%:*}
        rest=${hit#*:}
        line=${rest%%:*}
        target=${hit##*crate::}
        target=${target%%[^a-zA-Z_]*}
        if [[ $target =~ ^[A-Z] ]]; then
            # A root re-export (crate::Msg, crate::Socket) may point
            # anywhere: only the top layer uses them.
            [[ $layer == api ]] && continue
            echo "layers: $file:$line names crate::$target; name it by its layer's path"
            status=1
            continue
        fi
        theirs=$(rank "$target")
        if [[ $theirs -lt 0 ]]; then
            echo "layers: $file:$line names crate::$target, which is no layer"
            status=1
        elif [[ $theirs -gt $mine ]]; then
            echo "layers: $file:$line: $layer names the higher layer $target"
            status=1
        fi
    done < <(grep -rnoE 'crate::[A-Za-z_]+' "$layer" || true)
done
if [[ $status -eq 0 ]]; then
    echo "layers: std-backend/src imports only downward (${layers[*]})"
fi
exit $status
