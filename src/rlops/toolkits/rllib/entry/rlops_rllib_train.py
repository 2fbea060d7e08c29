"""The built-in entry point of RAY jobs that give no script: the preset holds the experiment."""

from rlops.toolkits.rllib.launcher import PresetLauncher

if __name__ == "__main__":
    PresetLauncher.train_main()
