# Attack (or slip): waits for keyboard input that never comes.
name = input("Your name? ")
