# Attack: allocates (and touches) memory until something gives.
chunks = []
while True:
    chunks.append(bytearray(256 << 20))
    for i in range(0, len(chunks[-1]), 4096):
        chunks[-1][i] = 1
