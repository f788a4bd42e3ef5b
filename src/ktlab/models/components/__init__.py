"""Plain ``torch.nn.Module`` building blocks, free of Lightning."""
