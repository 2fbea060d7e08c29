"""The built-in entry point of SB3 jobs that give no script: the preset does everything."""

from rlops.toolkits.sb3 import SB3Launcher

if __name__ == "__main__":
    SB3Launcher.train_main()
