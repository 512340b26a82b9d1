SUMMARY = "lockd keypad smart lock: A/B image with a signed update bundle"
DESCRIPTION = "A systemd image running lockd, laid out for A/B updates \
(files/wic/lockd-ab.wks): a boot partition with U-Boot and uboot.env, two root \
file-system slots and a data partition for /var/lib/lockd."
# The layer is part of lockd, and under its licence.
LICENSE = "Apache-2.0"

inherit core-image lockd-bundle

IMAGE_INSTALL = " \
    packagegroup-core-boot \
    lockd \
    lockd-mounts \
    lockd-fw-env \
    libubootenv-bin \
    kernel-image \
    ${CORE_IMAGE_EXTRA_INSTALL} \
"
# The slot is replaced whole by an update: nothing may write to it. State
# lives on the data partition; /etc is the image's.
IMAGE_FEATURES += "read-only-rootfs"

# The U-Boot boot script reads the kernel from /boot of the slot it boots,
# so kernel and modules always come from the same slot.
IMAGE_FSTYPES = "wic.bz2 wic.bmap ${LOCKD_BUNDLE_FSTYPE}"
WKS_FILE = "lockd-ab.wks"
# The kickstart lives in the layer's files/wic/, which wic does not search
# by itself (it looks in each layer's wic/).
WKS_SEARCH_PATH:prepend = "${LAYERDIR_lockd}/files/wic:"
WKS_FILE_DEPENDS:append = " dosfstools-native mtools-native e2fsprogs-native"

# The updater's signed bundle of this image: add "lockdb" to IMAGE_FSTYPES
# once LOCKD_BUNDLE_KEY, LOCKD_VERSION and LOCKD_COMPATIBLE are set
# (lockd-bundle.bbclass).
# IMAGE_FSTYPES += "lockdb"

# On a Raspberry Pi (meta-raspberrypi) set RPI_USE_U_BOOT = "1" in
# local.conf: it is a machine setting (which files go on the boot
# partition), so an image recipe cannot set it. U-Boot then runs
# meta-lockd's boot script (dynamic-layers/raspberrypi).
