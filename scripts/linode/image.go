package linode

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/linode/linodego"
)

// UploadOptions describe a custom image upload.
type UploadOptions struct {
	// Path is the gzip-compressed raw disk image, e.g. out/tidegate.img.gz.
	Path string
	// Region is where the image is stored, e.g. us-east.
	Region string
	// Label names the image, e.g. tidegate-v1.2.0.
	Label       string
	Description string
	Tags        []string
}

// Upload creates a custom image from opts.Path and waits until Linode has
// processed it (status "available"). It returns the image, whose ID
// ("private/12345") Deploy and Reimage take.
func (c *Client) Upload(ctx context.Context, opts UploadOptions) (*linodego.Image, error) {
	if opts.Region == "" || opts.Label == "" {
		return nil, errors.New("upload: the image needs a region and a label")
	}
	f, err := os.Open(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	defer f.Close()
	// Linode takes a gzip file (it decompresses it itself); a raw image
	// would be refused only after the whole transfer.
	var magic [2]byte
	if _, err := f.ReadAt(magic[:], 0); err != nil || magic != [2]byte{0x1f, 0x8b} {
		return nil, fmt.Errorf("upload: %s is not gzip-compressed; Linode takes the .img.gz that make image writes", opts.Path)
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}

	// CloudInit marks the image as one that reads the Metadata Service:
	// the API accepts user data only for instances of such images. tidegate
	// reads it itself (no cloud-init inside), which is what the flag means to
	// Linode.
	create := linodego.ImageCreateUploadOptions{Region: opts.Region, Label: opts.Label, Description: opts.Description, CloudInit: true}
	if len(opts.Tags) > 0 {
		create.Tags = &opts.Tags
	}
	img, url, err := c.api.CreateImageUpload(ctx, create)
	if err != nil {
		return nil, fmt.Errorf("upload: creating image %s: %w", opts.Label, err)
	}
	c.progress("image %s (%s): uploading %s (%d MB)", img.ID, opts.Label, opts.Path, fi.Size()>>20)
	if err := c.api.UploadImageToURL(ctx, url, bufio.NewReaderSize(f, 1<<20)); err != nil {
		return nil, fmt.Errorf("upload: sending %s to image %s: %w", opts.Path, img.ID, err)
	}
	c.progress("image %s: uploaded, waiting until Linode has processed it", img.ID)
	ready, err := c.api.WaitForImageStatus(ctx, img.ID, linodego.ImageStatusAvailable, timeoutSeconds(c.cfg.ImageTimeout))
	if err != nil {
		return nil, fmt.Errorf("upload: image %s: %w", img.ID, err)
	}
	c.progress("image %s: available", ready.ID)
	return ready, nil
}
