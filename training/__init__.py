"""Training plumbing shared by train.py and train_gan.py: flags, state, the loop, logs and grids."""
