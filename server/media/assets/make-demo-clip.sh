#!/usr/bin/env bash
# Makes the demo stage's clip from synthetic sources only (FFmpeg's test pattern and a tone),
# so the repository ships no recorded media: 12 s of VP8 (IVF, 320x180, 15 fps, a keyframe
# every second) and Opus (Ogg, 48 kHz mono, 20 ms frames). The node loops it as the demo
# event's speaker. Run from this directory: bash make-demo-clip.sh
set -euo pipefail
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc2=size=320x180:rate=15,drawtext=text='Plenary demo stage':fontcolor=white:fontsize=18:x=(w-tw)/2:y=h-30:box=1:boxcolor=black@0.5" \
  -t 12 -c:v libvpx -b:v 150k -g 15 -keyint_min 15 -deadline good -cpu-used 4 -f ivf demo.ivf \
  || ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc2=size=320x180:rate=15" \
       -t 12 -c:v libvpx -b:v 150k -g 15 -keyint_min 15 -deadline good -cpu-used 4 -f ivf demo.ivf
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "sine=frequency=440:sample_rate=48000,volume=0.2" \
  -t 12 -ac 1 -c:a libopus -b:a 24k -frame_duration 20 -application audio -f ogg demo.ogg
ls -l demo.ivf demo.ogg
