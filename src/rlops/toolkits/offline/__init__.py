"""Batch (offline) RL: policies trained from logged episodes with d3rlpy, evaluated off-policy as they train.

A preset marked ``toolkit: offline`` names a d3rlpy algorithm and the channel holding its dataset
(:mod:`rlops.datasets`); the SB3 launcher hands it to :func:`rlops.toolkits.offline.training.train`.
"""
