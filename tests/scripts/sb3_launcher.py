"""A SageMaker-style training script: subclass the launcher, name a preset, map a hyperparameter."""
from rlops.toolkits.sb3 import SB3Launcher


class CartPoleLauncher(SB3Launcher):
    def default_preset_name(self):
        return "cartpole-ppo"

    def map_hyperparameter(self, name, value):
        if name == "budget":
            return {"rl.schedule.training_steps": value}
        return super().map_hyperparameter(name, value)


if __name__ == "__main__":
    CartPoleLauncher.train_main()
