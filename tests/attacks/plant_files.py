# Attack: plants files that would change later runs: Keras config, a .pth in site-packages, an IPython startup
# file, a sitecustomize.py; and tries to remount the system read-write.
import os
import site
import subprocess
from pathlib import Path

planted = []
targets = [Path.home() / ".keras" / "keras.json",
           Path("/root/.keras/keras.json"),
           Path("/root/.ipython/profile_default/startup/00-evil.py")]
targets += [Path(p) / "cnngrade_evil.pth" for p in site.getsitepackages()]
targets += [Path(p) / "sitecustomize.py" for p in site.getsitepackages()]
for target in targets:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text('{"image_data_format": "channels_first"}' if target.suffix == ".json" else "import os\n")
        planted.append(str(target))
    except OSError:
        pass
remount = subprocess.run(["mount", "-o", "remount,rw", "/"], capture_output=True)
# Writes that "succeed" may land in the sandbox's own throwaway folders; the test checks the host afterwards.
print("planted:", planted, "remount:", remount.returncode)
if remount.returncode == 0:
    raise RuntimeError("ESCAPED: remounted / read-write")
