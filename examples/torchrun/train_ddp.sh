#!/bin/bash
# DDP started by torchrun instead of Lightning: torchrun starts one process per device and sets RANK,
# LOCAL_RANK, WORLD_SIZE, MASTER_ADDR/PORT; Lightning sees them (TorchElasticEnvironment) and launches nothing.
#
# One machine, 4 GPUs:
#   examples/torchrun/train_ddp.sh configs/mnist/wgan_gp.yaml 4
# Two machines, 4 GPUs each (run on both, NODE_RANK=0 on the first, MASTER=its host name):
#   NNODES=2 NODE_RANK=0 MASTER=node1 examples/torchrun/train_ddp.sh configs/mnist/wgan_gp.yaml 4
# CPU only (gloo), e.g. to try it on a laptop:
#   ACCELERATOR=cpu examples/torchrun/train_ddp.sh configs/toy/wgan_gp_ring.yaml 2 --trainer.max_steps 60
set -euo pipefail
CONFIG=${1:?usage: train_ddp.sh CONFIG DEVICES_PER_NODE [extra gan-lightning flags]}
DEVICES=${2:?usage: train_ddp.sh CONFIG DEVICES_PER_NODE [extra gan-lightning flags]}
shift 2
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

.venv/bin/torchrun \
    --nnodes "${NNODES:-1}" --node_rank "${NODE_RANK:-0}" --nproc_per_node "$DEVICES" \
    --master_addr "${MASTER:-127.0.0.1}" --master_port "${PORT:-29500}" \
    -m gan_lightning fit --config "$CONFIG" \
    --trainer.accelerator "${ACCELERATOR:-gpu}" \
    --trainer.devices "$DEVICES" \
    --trainer.num_nodes "${NNODES:-1}" \
    --trainer.strategy ddp \
    "$@"
