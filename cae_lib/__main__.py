import sys

from cae_lib.cli import main

sys.exit(main())
