#!/usr/bin/env bash
# Run a command with no inherited descriptor but 0, 1 and 2: a process a
# spec leaves running (an API server, the webhook) must not hold busted's
# or the runners' pipes open, or they wait for it.
fds=$(ls /proc/$$/fd)
for fd in $fds; do
  # 255: bash reads this script from it (close-on-exec)
  if [ "$fd" -gt 2 ] && [ "$fd" != 255 ] && [ -e "/proc/$$/fd/$fd" ]; then eval "exec $fd>&-"; fi
done
exec "$@"
