#!/bin/sh
# Writes an assembly file that embeds the built vDSO image ($1) in the
# runtime library between sgxemu_vdso_image and sgxemu_vdso_image_end.
set -eu
cat > "$2" <<END
	.section .rodata
	.balign 4096
	.globl sgxemu_vdso_image
	.hidden sgxemu_vdso_image
sgxemu_vdso_image:
	.incbin "$1"
	.globl sgxemu_vdso_image_end
	.hidden sgxemu_vdso_image_end
sgxemu_vdso_image_end:
	.section .note.GNU-stack, "", @progbits
END
