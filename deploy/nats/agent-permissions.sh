#!/usr/bin/env bash
# Prints the NATS permissions of one or more Drover agents, for permissions.conf:
#   deploy/nats/agent-permissions.sh kafka-a-1 kafka-a-2 >> deploy/nats/permissions.conf
# then add one user per agent to the DROVER account (dev.conf / cluster.conf):
#   { user: kafka-a-1, password: $DROVER_AGENT_kafka_a_1_PASSWORD, permissions: $AGENT_kafka_a_1 }
# Ids follow Drover's token rule (letters, digits, "-", "_"; 1-64 chars; first a letter or digit).
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 AGENT_ID [AGENT_ID…]" >&2; exit 2; }
for id in "$@"; do
  [[ $id =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$ ]] ||
    { echo "$0: agent id: got '$id', expected letters, digits, '-' or '_' (1-64, first a letter or digit)" >&2; exit 1; }
  [ "$id" != coordinator ] ||
    { echo "$0: agent id: 'coordinator' is reserved (the coordinator's own job and run events use it)" >&2; exit 1; }
  var="AGENT_${id//-/_}"
  cat <<CONF

# ---- agent $id ----
$var = {
  publish: {
    allow: [
      "drover.event.*.$id.>",
      "drover.audit.rejected.$id",
      "\$KV.drover-agents.$id",
      "\$JS.API.INFO",
      "\$JS.API.STREAM.INFO.KV_drover-agents",
      "\$JS.API.DIRECT.GET.KV_drover-agents.\$KV.drover-agents.$id",
      "\$JS.API.STREAM.INFO.KV_drover-profiles",
      "\$JS.API.STREAM.MSG.GET.KV_drover-profiles",
      "\$JS.API.DIRECT.GET.KV_drover-profiles.>",
      "\$KV.drover-node-status.*.$id",
      "\$JS.API.STREAM.INFO.KV_drover-node-status",
      "\$JS.API.DIRECT.GET.KV_drover-node-status.>",
      "\$JS.API.STREAM.MSG.GET.KV_drover-node-status",
      "\$JS.API.CONSUMER.CREATE.KV_drover-node-status.>",
      "\$JS.API.CONSUMER.MSG.NEXT.KV_drover-node-status.>",
      "\$JS.API.CONSUMER.DELETE.KV_drover-node-status.>",
      "\$JS.API.CONSUMER.INFO.KV_drover-node-status.>",
      "\$JS.API.STREAM.INFO.KV_drover-shipping",
      "\$JS.API.STREAM.MSG.GET.KV_drover-shipping",
      "\$JS.API.DIRECT.GET.KV_drover-shipping.>",
      "\$KV.drover-shipping-status.$id",
      "\$JS.API.STREAM.INFO.KV_drover-shipping-status",
      "\$JS.API.DIRECT.GET.DROVER_DISPATCH.drover.order.$id",
      "\$JS.API.CONSUMER.CREATE.DROVER_DISPATCH.catchup-$id.drover.order.$id",
      "\$JS.API.CONSUMER.INFO.DROVER_DISPATCH.catchup-$id",
      "\$JS.API.CONSUMER.MSG.NEXT.DROVER_DISPATCH.catchup-$id",
      "\$JS.API.CONSUMER.DELETE.DROVER_DISPATCH.catchup-$id"
    ]
  }
  subscribe: { allow: ["drover.order.$id", "drover.resend.$id", "drover.cancel.$id", "drover.journal.$id", "drover.live.ping", "drover.status.cassandra.*", "_INBOX_$id.>"] }
  allow_responses: { max: 1, expires: "1m" }
}
CONF
done
